#!/usr/bin/env bash
# Run a one-off command in a Pulse service's task (same image, roles, network and env as the
# service), wait for it, and print its exit code and logs.
#
#   deploy/scripts/run-once.sh <service> [<command> [args...]]
#   deploy/scripts/run-once.sh indexer pulse-indexer migrate
#   deploy/scripts/run-once.sh opensearch-admin        # the OpenSearch security roles (its own command)
#
# <service> is producer, enricher, indexer, dashboard or opensearch-admin (the one-off task that
# runs with the OpenSearch break-glass admin role). Without a command the task definition's runs.
#
# Env: ENV=dev|prod (default dev), TF=terraform|tofu. Needs the AWS CLI v2 and jq, and an
# initialised deploy/terraform/envs/$ENV (for its outputs).
set -euo pipefail

if [[ $# -lt 1 ]]; then
  echo "usage: $0 <producer|enricher|indexer|dashboard|opensearch-admin> [<command> [args...]]" >&2
  exit 2
fi
service="$1"; shift
env_name="${ENV:-dev}"
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
tf_dir="$repo_root/deploy/terraform/envs/$env_name"
tf="${TF:-$(command -v terraform || command -v tofu || true)}"

for tool in aws jq; do
  command -v "$tool" >/dev/null || { echo "run-once: $tool is not installed" >&2; exit 1; }
done
[[ -n "$tf" ]] || { echo "run-once: neither terraform nor tofu is installed" >&2; exit 1; }

out() { "$tf" -chdir="$tf_dir" output -json "$1"; }
cluster="$(out ecs_cluster_name | jq -r .)"
region="$(out region | jq -r .)"
subnets="$(out private_subnet_ids | jq -r 'join(",")')"
sg="$(out task_security_group_ids | jq -r --arg s "$service" '.[$s]')"
family="$cluster-$service"
if [[ $# -gt 0 ]]; then
  overrides="$(jq -cn --arg name "$service" '{containerOverrides: [{name: $name, command: $ARGS.positional}]}' --args "$@")"
else
  overrides='{"containerOverrides": []}'
fi

task_arn="$(aws ecs run-task --region "$region" --cluster "$cluster" --task-definition "$family" \
  --launch-type FARGATE --count 1 --started-by run-once \
  --network-configuration "awsvpcConfiguration={subnets=[$subnets],securityGroups=[$sg],assignPublicIp=DISABLED}" \
  --overrides "$overrides" --query 'tasks[0].taskArn' --output text)"
echo "run-once: started $task_arn ($service: ${*:-its own command})" >&2
aws ecs wait tasks-stopped --region "$region" --cluster "$cluster" --tasks "$task_arn"

code="$(aws ecs describe-tasks --region "$region" --cluster "$cluster" --tasks "$task_arn" \
  --query "tasks[0].containers[?name=='$service'].exitCode | [0]" --output text)"
log_group="$(out log_group_names | jq -r --arg s "$service" '.[$s]')"
aws logs tail "$log_group" --region "$region" --log-stream-names "$service/$service/${task_arn##*/}" --format short || true
echo "run-once: $service exited with $code" >&2
[[ "$code" == "0" ]]
