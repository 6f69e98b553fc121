# OpenSearch Dashboards saved objects for Pulse (index pattern, visualizations, a dashboard).
# Included by the root Makefile:   -include deploy/opensearch-dashboards/osd.mk
#
#   make osd-import OSD_URL=https://search-pulse-xxxx.eu-west-1.es.amazonaws.com/_dashboards
#   make osd-import OSD_URL=http://127.0.0.1:5601 OSD_INDEX=pulse-posts
#   make osd-import OSD_URL=... OSD_CURL_ARGS='--aws-sigv4 aws:amz:eu-west-1:es --user "$$AWS_ACCESS_KEY_ID:$$AWS_SECRET_ACCESS_KEY"'
#   make osd-import OSD_URL=... OSD_CURL_ARGS='--user admin:secret'
#
# OSD_INDEX is the read alias the services use (PULSE_OPENSEARCH_INDEX_ALIAS); the file says
# pulse-posts and is rewritten on the fly for another alias. Re-importing overwrites the objects.
OSD_URL ?=
OSD_INDEX ?= pulse-posts
OSD_CURL_ARGS ?=
OSD_OBJECTS := deploy/opensearch-dashboards/pulse.ndjson

.PHONY: osd-import
osd-import: ## import the Pulse index pattern, visualizations and dashboard into OpenSearch Dashboards (OSD_URL=...)
	@[ -n "$(OSD_URL)" ] || { echo "osd-import: set OSD_URL, e.g. OSD_URL=https://<domain>/_dashboards" >&2; exit 2; }
	@tmp=$$(mktemp --suffix=.ndjson) && trap 'rm -f "$$tmp"' EXIT && \
	  sed 's/pulse-posts\([^-]\)/$(OSD_INDEX)\1/g' $(OSD_OBJECTS) > "$$tmp" && \
	  curl -sS --fail-with-body -X POST "$(OSD_URL)/api/saved_objects/_import?overwrite=true" \
	    -H "osd-xsrf: true" $(OSD_CURL_ARGS) --form "file=@$$tmp;filename=pulse.ndjson" && echo && \
	  echo "osd-import: imported $$(wc -l < $(OSD_OBJECTS)) objects for index $(OSD_INDEX) into $(OSD_URL)"
