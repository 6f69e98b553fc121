// A stand-in for the hashicorp/aws Terraform provider that serves only its schema, so that
// `terraform validate` runs where the registry cannot be reached (deploy/offline/README.md).
//
// The schema is a JSON file in the layout of `terraform providers schema -json` (written by
// deploy/offline/jsii_schema.py from the CDK bindings' jsii assembly, or taken from the real
// provider); it is read from $PULSE_TF_STANDIN_SCHEMA or schema.json next to this binary.
// Terraform checks the configuration against the schema itself (unknown arguments, blocks
// written as arguments, missing required arguments, types, references); this provider adds
// what the real provider's validation adds: computed-only attributes set in the configuration,
// and warnings for deprecated arguments and blocks. Every call that
// would plan, read or change infrastructure answers with an error.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

const address = "registry.terraform.io/hashicorp/aws"

// --- schema file -------------------------------------------------------------------------------

type jsonAttribute struct {
	Type       json.RawMessage `json:"type"`
	NestedType *jsonObject     `json:"nested_type"`
	Required   bool            `json:"required"`
	Optional   bool            `json:"optional"`
	Computed   bool            `json:"computed"`
	Sensitive  bool            `json:"sensitive"`
	Deprecated bool            `json:"deprecated"`
}

type jsonObject struct {
	Attributes  map[string]jsonAttribute `json:"attributes"`
	NestingMode string                   `json:"nesting_mode"`
}

type jsonBlockType struct {
	NestingMode string    `json:"nesting_mode"`
	Block       jsonBlock `json:"block"`
	MinItems    int64     `json:"min_items"`
	MaxItems    int64     `json:"max_items"`
}

type jsonBlock struct {
	Attributes map[string]jsonAttribute `json:"attributes"`
	BlockTypes map[string]jsonBlockType `json:"block_types"`
	Deprecated bool                     `json:"deprecated"`
}

type jsonSchema struct {
	Version int64     `json:"version"`
	Block   jsonBlock `json:"block"`
}

type jsonProvider struct {
	Provider          jsonSchema            `json:"provider"`
	ResourceSchemas   map[string]jsonSchema `json:"resource_schemas"`
	DataSourceSchemas map[string]jsonSchema `json:"data_source_schemas"`
}

type jsonDocument struct {
	ProviderSchemas map[string]jsonProvider `json:"provider_schemas"`
}

func ctyType(raw json.RawMessage) (tftypes.Type, error) {
	var name string
	if err := json.Unmarshal(raw, &name); err == nil {
		switch name {
		case "string":
			return tftypes.String, nil
		case "number":
			return tftypes.Number, nil
		case "bool":
			return tftypes.Bool, nil
		case "dynamic":
			return tftypes.DynamicPseudoType, nil
		}
		return nil, fmt.Errorf("unknown primitive type %q", name)
	}
	var parts []json.RawMessage
	if err := json.Unmarshal(raw, &parts); err != nil || len(parts) < 2 {
		return nil, fmt.Errorf("bad type %s", string(raw))
	}
	var kind string
	if err := json.Unmarshal(parts[0], &kind); err != nil {
		return nil, err
	}
	switch kind {
	case "list", "set", "map":
		elem, err := ctyType(parts[1])
		if err != nil {
			return nil, err
		}
		switch kind {
		case "list":
			return tftypes.List{ElementType: elem}, nil
		case "set":
			return tftypes.Set{ElementType: elem}, nil
		}
		return tftypes.Map{ElementType: elem}, nil
	case "object":
		var members map[string]json.RawMessage
		if err := json.Unmarshal(parts[1], &members); err != nil {
			return nil, err
		}
		obj := tftypes.Object{AttributeTypes: map[string]tftypes.Type{}}
		for name, member := range members {
			t, err := ctyType(member)
			if err != nil {
				return nil, err
			}
			obj.AttributeTypes[name] = t
		}
		if len(parts) > 2 {
			var optional []string
			if err := json.Unmarshal(parts[2], &optional); err != nil {
				return nil, err
			}
			obj.OptionalAttributes = map[string]struct{}{}
			for _, name := range optional {
				obj.OptionalAttributes[name] = struct{}{}
			}
		}
		return obj, nil
	case "tuple":
		var members []json.RawMessage
		if err := json.Unmarshal(parts[1], &members); err != nil {
			return nil, err
		}
		tuple := tftypes.Tuple{}
		for _, member := range members {
			t, err := ctyType(member)
			if err != nil {
				return nil, err
			}
			tuple.ElementTypes = append(tuple.ElementTypes, t)
		}
		return tuple, nil
	}
	return nil, fmt.Errorf("unknown type kind %q", kind)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func convertAttribute(name string, a jsonAttribute) (*tfprotov6.SchemaAttribute, error) {
	out := &tfprotov6.SchemaAttribute{
		Name:       name,
		Required:   a.Required,
		Optional:   a.Optional,
		Computed:   a.Computed,
		Sensitive:  a.Sensitive,
		Deprecated: a.Deprecated,
	}
	if a.NestedType != nil {
		nested, err := convertObject(*a.NestedType)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out.NestedType = nested
		return out, nil
	}
	t, err := ctyType(a.Type)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	out.Type = t
	return out, nil
}

func convertObject(o jsonObject) (*tfprotov6.SchemaObject, error) {
	modes := map[string]tfprotov6.SchemaObjectNestingMode{
		"single": tfprotov6.SchemaObjectNestingModeSingle,
		"list":   tfprotov6.SchemaObjectNestingModeList,
		"set":    tfprotov6.SchemaObjectNestingModeSet,
		"map":    tfprotov6.SchemaObjectNestingModeMap,
	}
	mode, ok := modes[o.NestingMode]
	if !ok {
		return nil, fmt.Errorf("unknown nested attribute mode %q", o.NestingMode)
	}
	out := &tfprotov6.SchemaObject{Nesting: mode}
	for _, name := range sortedKeys(o.Attributes) {
		attr, err := convertAttribute(name, o.Attributes[name])
		if err != nil {
			return nil, err
		}
		out.Attributes = append(out.Attributes, attr)
	}
	return out, nil
}

func convertBlock(b jsonBlock) (*tfprotov6.SchemaBlock, error) {
	out := &tfprotov6.SchemaBlock{Deprecated: b.Deprecated}
	for _, name := range sortedKeys(b.Attributes) {
		attr, err := convertAttribute(name, b.Attributes[name])
		if err != nil {
			return nil, err
		}
		out.Attributes = append(out.Attributes, attr)
	}
	modes := map[string]tfprotov6.SchemaNestedBlockNestingMode{
		"single": tfprotov6.SchemaNestedBlockNestingModeSingle,
		"list":   tfprotov6.SchemaNestedBlockNestingModeList,
		"set":    tfprotov6.SchemaNestedBlockNestingModeSet,
		"map":    tfprotov6.SchemaNestedBlockNestingModeMap,
		"group":  tfprotov6.SchemaNestedBlockNestingModeGroup,
	}
	for _, name := range sortedKeys(b.BlockTypes) {
		bt := b.BlockTypes[name]
		mode, ok := modes[bt.NestingMode]
		if !ok {
			return nil, fmt.Errorf("%s: unknown block nesting mode %q", name, bt.NestingMode)
		}
		inner, err := convertBlock(bt.Block)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		nested := &tfprotov6.SchemaNestedBlock{TypeName: name, Block: inner, Nesting: mode}
		if mode == tfprotov6.SchemaNestedBlockNestingModeList || mode == tfprotov6.SchemaNestedBlockNestingModeSet {
			nested.MinItems, nested.MaxItems = bt.MinItems, bt.MaxItems
		}
		out.BlockTypes = append(out.BlockTypes, nested)
	}
	return out, nil
}

func convertSchema(s jsonSchema) (*tfprotov6.Schema, error) {
	block, err := convertBlock(s.Block)
	if err != nil {
		return nil, err
	}
	return &tfprotov6.Schema{Version: s.Version, Block: block}, nil
}

func schemaPath() (string, error) {
	if path := os.Getenv("PULSE_TF_STANDIN_SCHEMA"); path != "" {
		return path, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(exe), "schema.json"), nil
}

type provider struct {
	schema      *tfprotov6.GetProviderSchemaResponse
	resources   map[string]jsonSchema
	dataSources map[string]jsonSchema
}

func load() (*provider, error) {
	path, err := schemaPath()
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc jsonDocument
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	src, ok := doc.ProviderSchemas[address]
	if !ok {
		return nil, fmt.Errorf("%s: no schema for %s", path, address)
	}
	resp := &tfprotov6.GetProviderSchemaResponse{
		ServerCapabilities: &tfprotov6.ServerCapabilities{PlanDestroy: true},
		ResourceSchemas:    map[string]*tfprotov6.Schema{},
		DataSourceSchemas:  map[string]*tfprotov6.Schema{},
		Functions:          map[string]*tfprotov6.Function{},
	}
	if resp.Provider, err = convertSchema(src.Provider); err != nil {
		return nil, fmt.Errorf("provider: %w", err)
	}
	for name, s := range src.ResourceSchemas {
		if resp.ResourceSchemas[name], err = convertSchema(s); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	for name, s := range src.DataSourceSchemas {
		if resp.DataSourceSchemas[name], err = convertSchema(s); err != nil {
			return nil, fmt.Errorf("data %s: %w", name, err)
		}
	}
	return &provider{schema: resp, resources: src.ResourceSchemas, dataSources: src.DataSourceSchemas}, nil
}

// --- deprecation warnings ------------------------------------------------------------------------

func deprecated(path *tftypes.AttributePath, what string) *tfprotov6.Diagnostic {
	return &tfprotov6.Diagnostic{
		Severity:  tfprotov6.DiagnosticSeverityWarning,
		Summary:   fmt.Sprintf("%s is deprecated", what),
		Detail:    "The hashicorp/aws provider marks this as deprecated; see its documentation for the replacement.",
		Attribute: path,
	}
}

func present(v tftypes.Value) bool {
	if v.IsNull() || !v.IsKnown() {
		return !v.IsNull()
	}
	return true
}

// checkBlock reports what the real provider's own validation reports and Terraform does not:
// a computed-only attribute set in the configuration (an error) and every deprecated argument
// or block that the configuration sets (a warning).
func checkBlock(b jsonBlock, v tftypes.Value, path *tftypes.AttributePath, out *[]*tfprotov6.Diagnostic) {
	if v.IsNull() || !v.IsKnown() {
		return
	}
	var values map[string]tftypes.Value
	if err := v.As(&values); err != nil {
		return
	}
	for _, name := range sortedKeys(b.Attributes) {
		attr := b.Attributes[name]
		value, ok := values[name]
		if !ok || !present(value) {
			continue
		}
		if attr.Computed && !attr.Optional && !attr.Required {
			*out = append(*out, &tfprotov6.Diagnostic{
				Severity:  tfprotov6.DiagnosticSeverityError,
				Summary:   "Value for unconfigurable attribute",
				Detail:    fmt.Sprintf("%q is computed by the provider and cannot be set in the configuration.", name),
				Attribute: path.WithAttributeName(name),
			})
		}
		if attr.Deprecated {
			*out = append(*out, deprecated(path.WithAttributeName(name), fmt.Sprintf("Argument %q", name)))
		}
	}
	for _, name := range sortedKeys(b.BlockTypes) {
		bt := b.BlockTypes[name]
		value, ok := values[name]
		if !ok || value.IsNull() || !value.IsKnown() {
			continue
		}
		var elements []tftypes.Value
		if bt.NestingMode == "single" || bt.NestingMode == "group" {
			elements = []tftypes.Value{value}
		} else if err := value.As(&elements); err != nil {
			var byKey map[string]tftypes.Value
			if value.As(&byKey) == nil {
				for _, k := range sortedKeys(byKey) {
					elements = append(elements, byKey[k])
				}
			}
		}
		if len(elements) == 0 {
			continue
		}
		if bt.Block.Deprecated {
			*out = append(*out, deprecated(path.WithAttributeName(name), fmt.Sprintf("Block %q", name)))
		}
		for i, element := range elements {
			checkBlock(bt.Block, element, path.WithAttributeName(name).WithElementKeyInt(i), out)
		}
	}
}

// blockType is the type Terraform encodes a block's configuration in: as its schema says, except
// that objects carry no optional-attribute markers (every attribute is sent, unset ones as null)
// and a list or map of blocks holding a dynamically typed attribute travels as a dynamic value.
func blockType(b jsonBlock) tftypes.Type {
	obj := tftypes.Object{AttributeTypes: map[string]tftypes.Type{}}
	for name, attr := range b.Attributes {
		obj.AttributeTypes[name] = attributeType(attr)
	}
	for name, bt := range b.BlockTypes {
		inner := blockType(bt.Block)
		switch bt.NestingMode {
		case "single", "group":
			obj.AttributeTypes[name] = inner
		case "set":
			obj.AttributeTypes[name] = tftypes.Set{ElementType: inner}
		case "list", "map":
			if hasDynamic(inner) {
				obj.AttributeTypes[name] = tftypes.DynamicPseudoType
			} else if bt.NestingMode == "list" {
				obj.AttributeTypes[name] = tftypes.List{ElementType: inner}
			} else {
				obj.AttributeTypes[name] = tftypes.Map{ElementType: inner}
			}
		}
	}
	return obj
}

func attributeType(attr jsonAttribute) tftypes.Type {
	if attr.NestedType != nil {
		obj := tftypes.Object{AttributeTypes: map[string]tftypes.Type{}}
		for name, member := range attr.NestedType.Attributes {
			obj.AttributeTypes[name] = attributeType(member)
		}
		switch attr.NestedType.NestingMode {
		case "list":
			return tftypes.List{ElementType: obj}
		case "set":
			return tftypes.Set{ElementType: obj}
		case "map":
			return tftypes.Map{ElementType: obj}
		}
		return obj
	}
	t, err := ctyType(attr.Type)
	if err != nil {
		return tftypes.DynamicPseudoType
	}
	return withoutOptional(t)
}

func hasDynamic(t tftypes.Type) bool {
	switch typ := t.(type) {
	case tftypes.Object:
		for _, member := range typ.AttributeTypes {
			if hasDynamic(member) {
				return true
			}
		}
		return false
	case tftypes.List:
		return hasDynamic(typ.ElementType)
	case tftypes.Set:
		return hasDynamic(typ.ElementType)
	case tftypes.Map:
		return hasDynamic(typ.ElementType)
	case tftypes.Tuple:
		for _, member := range typ.ElementTypes {
			if hasDynamic(member) {
				return true
			}
		}
		return false
	}
	return t.Is(tftypes.DynamicPseudoType)
}

// withoutOptional drops the optional-attribute markers of object types: tftypes cannot build
// values of such types.
func withoutOptional(t tftypes.Type) tftypes.Type {
	switch typ := t.(type) {
	case tftypes.Object:
		out := tftypes.Object{AttributeTypes: map[string]tftypes.Type{}}
		for name, member := range typ.AttributeTypes {
			out.AttributeTypes[name] = withoutOptional(member)
		}
		return out
	case tftypes.List:
		return tftypes.List{ElementType: withoutOptional(typ.ElementType)}
	case tftypes.Set:
		return tftypes.Set{ElementType: withoutOptional(typ.ElementType)}
	case tftypes.Map:
		return tftypes.Map{ElementType: withoutOptional(typ.ElementType)}
	case tftypes.Tuple:
		out := tftypes.Tuple{}
		for _, member := range typ.ElementTypes {
			out.ElementTypes = append(out.ElementTypes, withoutOptional(member))
		}
		return out
	}
	return t
}

func validate(s jsonSchema, config *tfprotov6.DynamicValue) []*tfprotov6.Diagnostic {
	if config == nil {
		return nil
	}
	value, err := config.Unmarshal(blockType(s.Block))
	if err != nil {
		return []*tfprotov6.Diagnostic{{Severity: tfprotov6.DiagnosticSeverityError, Summary: "stand-in provider: cannot decode configuration", Detail: err.Error()}}
	}
	var diags []*tfprotov6.Diagnostic
	checkBlock(s.Block, value, tftypes.NewAttributePath(), &diags)
	return diags
}

// --- the protocol ----------------------------------------------------------------------------------

func refuse(action string) []*tfprotov6.Diagnostic {
	return []*tfprotov6.Diagnostic{{
		Severity: tfprotov6.DiagnosticSeverityError,
		Summary:  "stand-in hashicorp/aws provider: schema only",
		Detail:   fmt.Sprintf("This provider only serves the schema so that terraform validate runs offline; it cannot %s. Use the real provider (make tf-local builds one).", action),
	}}
}

func (p *provider) GetMetadata(context.Context, *tfprotov6.GetMetadataRequest) (*tfprotov6.GetMetadataResponse, error) {
	resp := &tfprotov6.GetMetadataResponse{ServerCapabilities: p.schema.ServerCapabilities}
	for _, name := range sortedKeys(p.schema.ResourceSchemas) {
		resp.Resources = append(resp.Resources, tfprotov6.ResourceMetadata{TypeName: name})
	}
	for _, name := range sortedKeys(p.schema.DataSourceSchemas) {
		resp.DataSources = append(resp.DataSources, tfprotov6.DataSourceMetadata{TypeName: name})
	}
	return resp, nil
}

func (p *provider) GetProviderSchema(context.Context, *tfprotov6.GetProviderSchemaRequest) (*tfprotov6.GetProviderSchemaResponse, error) {
	return p.schema, nil
}

func (p *provider) GetResourceIdentitySchemas(context.Context, *tfprotov6.GetResourceIdentitySchemasRequest) (*tfprotov6.GetResourceIdentitySchemasResponse, error) {
	return &tfprotov6.GetResourceIdentitySchemasResponse{IdentitySchemas: map[string]*tfprotov6.ResourceIdentitySchema{}}, nil
}

func (p *provider) ValidateProviderConfig(_ context.Context, req *tfprotov6.ValidateProviderConfigRequest) (*tfprotov6.ValidateProviderConfigResponse, error) {
	return &tfprotov6.ValidateProviderConfigResponse{PreparedConfig: req.Config}, nil
}

func (p *provider) ConfigureProvider(context.Context, *tfprotov6.ConfigureProviderRequest) (*tfprotov6.ConfigureProviderResponse, error) {
	return &tfprotov6.ConfigureProviderResponse{}, nil
}

func (p *provider) StopProvider(context.Context, *tfprotov6.StopProviderRequest) (*tfprotov6.StopProviderResponse, error) {
	return &tfprotov6.StopProviderResponse{}, nil
}

func (p *provider) ValidateResourceConfig(_ context.Context, req *tfprotov6.ValidateResourceConfigRequest) (*tfprotov6.ValidateResourceConfigResponse, error) {
	s, ok := p.resources[req.TypeName]
	if !ok {
		return &tfprotov6.ValidateResourceConfigResponse{}, nil
	}
	return &tfprotov6.ValidateResourceConfigResponse{Diagnostics: validate(s, req.Config)}, nil
}

func (p *provider) ValidateDataResourceConfig(_ context.Context, req *tfprotov6.ValidateDataResourceConfigRequest) (*tfprotov6.ValidateDataResourceConfigResponse, error) {
	s, ok := p.dataSources[req.TypeName]
	if !ok {
		return &tfprotov6.ValidateDataResourceConfigResponse{}, nil
	}
	return &tfprotov6.ValidateDataResourceConfigResponse{Diagnostics: validate(s, req.Config)}, nil
}

func (p *provider) UpgradeResourceState(context.Context, *tfprotov6.UpgradeResourceStateRequest) (*tfprotov6.UpgradeResourceStateResponse, error) {
	return &tfprotov6.UpgradeResourceStateResponse{Diagnostics: refuse("read state")}, nil
}

func (p *provider) ReadResource(context.Context, *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	return &tfprotov6.ReadResourceResponse{Diagnostics: refuse("read resources")}, nil
}

func (p *provider) PlanResourceChange(context.Context, *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	return &tfprotov6.PlanResourceChangeResponse{Diagnostics: refuse("plan")}, nil
}

func (p *provider) ApplyResourceChange(context.Context, *tfprotov6.ApplyResourceChangeRequest) (*tfprotov6.ApplyResourceChangeResponse, error) {
	return &tfprotov6.ApplyResourceChangeResponse{Diagnostics: refuse("apply")}, nil
}

func (p *provider) ImportResourceState(context.Context, *tfprotov6.ImportResourceStateRequest) (*tfprotov6.ImportResourceStateResponse, error) {
	return &tfprotov6.ImportResourceStateResponse{Diagnostics: refuse("import")}, nil
}

func (p *provider) MoveResourceState(context.Context, *tfprotov6.MoveResourceStateRequest) (*tfprotov6.MoveResourceStateResponse, error) {
	return &tfprotov6.MoveResourceStateResponse{Diagnostics: refuse("move state")}, nil
}

func (p *provider) UpgradeResourceIdentity(context.Context, *tfprotov6.UpgradeResourceIdentityRequest) (*tfprotov6.UpgradeResourceIdentityResponse, error) {
	return &tfprotov6.UpgradeResourceIdentityResponse{Diagnostics: refuse("upgrade identities")}, nil
}

func (p *provider) GenerateResourceConfig(context.Context, *tfprotov6.GenerateResourceConfigRequest) (*tfprotov6.GenerateResourceConfigResponse, error) {
	return &tfprotov6.GenerateResourceConfigResponse{Diagnostics: refuse("generate configuration")}, nil
}

func (p *provider) ReadDataSource(context.Context, *tfprotov6.ReadDataSourceRequest) (*tfprotov6.ReadDataSourceResponse, error) {
	return &tfprotov6.ReadDataSourceResponse{Diagnostics: refuse("read data sources")}, nil
}

func (p *provider) GetFunctions(context.Context, *tfprotov6.GetFunctionsRequest) (*tfprotov6.GetFunctionsResponse, error) {
	return &tfprotov6.GetFunctionsResponse{Functions: map[string]*tfprotov6.Function{}}, nil
}

func (p *provider) CallFunction(context.Context, *tfprotov6.CallFunctionRequest) (*tfprotov6.CallFunctionResponse, error) {
	return &tfprotov6.CallFunctionResponse{Error: &tfprotov6.FunctionError{Text: "stand-in hashicorp/aws provider: no functions"}}, nil
}

func (p *provider) ValidateEphemeralResourceConfig(context.Context, *tfprotov6.ValidateEphemeralResourceConfigRequest) (*tfprotov6.ValidateEphemeralResourceConfigResponse, error) {
	return &tfprotov6.ValidateEphemeralResourceConfigResponse{}, nil
}

func (p *provider) OpenEphemeralResource(context.Context, *tfprotov6.OpenEphemeralResourceRequest) (*tfprotov6.OpenEphemeralResourceResponse, error) {
	return &tfprotov6.OpenEphemeralResourceResponse{Diagnostics: refuse("open ephemeral resources")}, nil
}

func (p *provider) RenewEphemeralResource(context.Context, *tfprotov6.RenewEphemeralResourceRequest) (*tfprotov6.RenewEphemeralResourceResponse, error) {
	return &tfprotov6.RenewEphemeralResourceResponse{Diagnostics: refuse("renew ephemeral resources")}, nil
}

func (p *provider) CloseEphemeralResource(context.Context, *tfprotov6.CloseEphemeralResourceRequest) (*tfprotov6.CloseEphemeralResourceResponse, error) {
	return &tfprotov6.CloseEphemeralResourceResponse{}, nil
}

func main() {
	p, err := load()
	if err != nil {
		fmt.Fprintf(os.Stderr, "stand-in hashicorp/aws provider: %v\n", err)
		os.Exit(1)
	}
	if len(os.Args) > 1 && strings.TrimLeft(os.Args[1], "-") == "check" {
		fmt.Printf("stand-in hashicorp/aws provider: %d resources, %d data sources\n", len(p.schema.ResourceSchemas), len(p.schema.DataSourceSchemas))
		return
	}
	if err := tf6server.Serve(address, func() tfprotov6.ProviderServer { return p }); err != nil {
		fmt.Fprintf(os.Stderr, "stand-in hashicorp/aws provider: %v\n", err)
		os.Exit(1)
	}
}
