#!/bin/sh
# Creates the Event Grid subscription that sends BlobCreated events for the catalogs container to the
# function app's blob extension webhook.
#
# Why after deploy: the webhook URL needs the app's blobs_extension system key, and the Functions host
# creates that key only when code with a blob trigger is running. So provisioning creates the system
# topic, and this step (azd postdeploy hook, or run by hand after publishing) adds the subscription by
# deploying infra/modules/catalog-events.bicep. Re-running it is safe (same name, same settings).
#
# Reads the outputs of infra/main.bicep, which azd puts in the environment:
#   AZURE_RESOURCE_GROUP, AZURE_FUNCTION_APP_NAME, AZURE_EVENTGRID_SYSTEM_TOPIC_NAME,
#   AZURE_CATALOG_CONTAINER_NAME (default catalogs), AZURE_CATALOG_FUNCTION_NAME (default IngestCatalog).
set -eu

: "${AZURE_RESOURCE_GROUP:?set AZURE_RESOURCE_GROUP (azd env get-values, or the deployment outputs)}"
: "${AZURE_FUNCTION_APP_NAME:?set AZURE_FUNCTION_APP_NAME}"
: "${AZURE_EVENTGRID_SYSTEM_TOPIC_NAME:?set AZURE_EVENTGRID_SYSTEM_TOPIC_NAME}"
container="${AZURE_CATALOG_CONTAINER_NAME:-catalogs}"
function_name="${AZURE_CATALOG_FUNCTION_NAME:-IngestCatalog}"
script_dir=$(cd "$(dirname "$0")" && pwd)

if ! command -v az >/dev/null 2>&1; then
  echo "The Azure CLI (az) is required: https://learn.microsoft.com/cli/azure/install-azure-cli" >&2
  exit 1
fi

# The host may need a minute after a deployment before it reports the key.
key=""
attempt=1
while [ "$attempt" -le 30 ]; do
  key=$(az functionapp keys list --resource-group "$AZURE_RESOURCE_GROUP" --name "$AZURE_FUNCTION_APP_NAME" \
    --query "systemKeys.blobs_extension" --output tsv 2>/dev/null || true)
  [ -n "$key" ] && break
  echo "Waiting for the blobs_extension key of $AZURE_FUNCTION_APP_NAME ($attempt/30)..."
  attempt=$((attempt + 1))
  sleep 10
done
if [ -z "$key" ]; then
  echo "No blobs_extension key: is the code deployed and does it contain the blob-triggered function $function_name?" >&2
  exit 1
fi

# Pass the key in a private parameters file, not on the command line (visible to other processes).
umask 077
parameters=$(mktemp)
trap 'rm -f "$parameters"' EXIT
printf '{"blobsExtensionKey":{"value":"%s"}}\n' "$key" > "$parameters"

az deployment group create \
  --resource-group "$AZURE_RESOURCE_GROUP" \
  --name catalog-events \
  --template-file "$script_dir/../modules/catalog-events.bicep" \
  --parameters "@$parameters" \
  --parameters systemTopicName="$AZURE_EVENTGRID_SYSTEM_TOPIC_NAME" functionAppName="$AZURE_FUNCTION_APP_NAME" \
               functionName="$function_name" containerName="$container" \
  --only-show-errors --output none

echo "Event Grid subscription created: BlobCreated in '$container' -> $AZURE_FUNCTION_APP_NAME/$function_name."
