#!/bin/sh
# Creates the Event Grid subscription that sends BlobCreated events for the catalogs container to the
# function app's blob extension webhook (with dead-lettering to the catalog-deadletter container).
#
# Why after deploy: the webhook URL needs the app's blobs_extension system key, and the Functions host
# creates that key only when code with a blob trigger is running. So provisioning creates the system
# topic, and this step (azd postdeploy hook, or run by hand after publishing) adds the subscription by
# deploying infra/modules/catalog-events.bicep. Re-running it is safe (same name, same settings).
#
# It uses the Azure CLI, which has its own sign-in, separate from `azd auth login`: run `az login` first
# (in a pipeline: the azure/login action, or `az login --service-principal`). Every az call names the
# subscription, and a failing az call stops the hook at once with az's own error.
#
# Reads the outputs of infra/main.bicep, which azd puts in the environment:
#   AZURE_SUBSCRIPTION_ID, AZURE_RESOURCE_GROUP, AZURE_FUNCTION_APP_NAME, AZURE_EVENTGRID_SYSTEM_TOPIC_NAME,
#   AZURE_STORAGE_ACCOUNT_NAME, AZURE_CATALOG_CONTAINER_NAME (default catalogs),
#   AZURE_DEADLETTER_CONTAINER_NAME (default catalog-deadletter), AZURE_CATALOG_FUNCTION_NAME (default IngestCatalog).
# POSTDEPLOY_KEY_ATTEMPTS (default 30, 10 s apart) bounds the wait for the key.
set -eu

: "${AZURE_SUBSCRIPTION_ID:?set AZURE_SUBSCRIPTION_ID (azd env get-values, or the deployment outputs)}"
: "${AZURE_RESOURCE_GROUP:?set AZURE_RESOURCE_GROUP (azd env get-values, or the deployment outputs)}"
: "${AZURE_FUNCTION_APP_NAME:?set AZURE_FUNCTION_APP_NAME}"
: "${AZURE_EVENTGRID_SYSTEM_TOPIC_NAME:?set AZURE_EVENTGRID_SYSTEM_TOPIC_NAME}"
: "${AZURE_STORAGE_ACCOUNT_NAME:?set AZURE_STORAGE_ACCOUNT_NAME}"
container="${AZURE_CATALOG_CONTAINER_NAME:-catalogs}"
dead_letter_container="${AZURE_DEADLETTER_CONTAINER_NAME:-catalog-deadletter}"
function_name="${AZURE_CATALOG_FUNCTION_NAME:-IngestCatalog}"
attempts="${POSTDEPLOY_KEY_ATTEMPTS:-30}"
script_dir=$(cd "$(dirname "$0")" && pwd)

if ! command -v az >/dev/null 2>&1; then
  echo "postdeploy: the Azure CLI (az) is required: https://learn.microsoft.com/cli/azure/install-azure-cli" >&2
  exit 1
fi

umask 077
az_errors=$(mktemp)
parameters=$(mktemp)
trap 'rm -f "$az_errors" "$parameters"' EXIT

# Prints what az said and stops: the real cause (not signed in, no such resource group, no permission),
# never a timeout that blames the code deployment.
az_failed() {
  echo "postdeploy: '$1' failed:" >&2
  cat "$az_errors" >&2
  exit 1
}

if ! az account show --subscription "$AZURE_SUBSCRIPTION_ID" --output none 2>"$az_errors"; then
  echo "postdeploy: the Azure CLI cannot use subscription $AZURE_SUBSCRIPTION_ID. The hook calls az, which is signed in separately from azd: run 'az login' (in a pipeline: azure/login or 'az login --service-principal')." >&2
  az_failed "az account show"
fi

# The host may need a minute after a deployment before it reports the key; an empty answer means
# "not yet", a failing az call means something else is wrong and ends the hook.
key=""
attempt=1
while [ "$attempt" -le "$attempts" ]; do
  if ! key=$(az functionapp keys list --subscription "$AZURE_SUBSCRIPTION_ID" \
    --resource-group "$AZURE_RESOURCE_GROUP" --name "$AZURE_FUNCTION_APP_NAME" \
    --query "systemKeys.blobs_extension" --output tsv 2>"$az_errors"); then
    az_failed "az functionapp keys list"
  fi
  [ -n "$key" ] && break
  echo "Waiting for the blobs_extension key of $AZURE_FUNCTION_APP_NAME ($attempt/$attempts)..."
  attempt=$((attempt + 1))
  sleep 10
done
if [ -z "$key" ]; then
  echo "postdeploy: no blobs_extension key after $attempts attempts: is the code deployed and does it contain the blob-triggered function $function_name?" >&2
  exit 1
fi

# Pass the key in a private parameters file, not on the command line (visible to other processes).
printf '{"blobsExtensionKey":{"value":"%s"}}\n' "$key" > "$parameters"

if ! az deployment group create \
  --subscription "$AZURE_SUBSCRIPTION_ID" \
  --resource-group "$AZURE_RESOURCE_GROUP" \
  --name catalog-events \
  --template-file "$script_dir/../modules/catalog-events.bicep" \
  --parameters "@$parameters" \
  --parameters systemTopicName="$AZURE_EVENTGRID_SYSTEM_TOPIC_NAME" functionAppName="$AZURE_FUNCTION_APP_NAME" \
               functionName="$function_name" containerName="$container" \
               storageAccountName="$AZURE_STORAGE_ACCOUNT_NAME" deadLetterContainerName="$dead_letter_container" \
  --only-show-errors --output none 2>"$az_errors"; then
  az_failed "az deployment group create"
fi

echo "Event Grid subscription created: BlobCreated in '$container' -> $AZURE_FUNCTION_APP_NAME/$function_name (dead letters: '$dead_letter_container')."
