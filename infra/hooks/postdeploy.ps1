# Windows twin of postdeploy.sh: creates the Event Grid subscription that sends BlobCreated events for
# the catalogs container to the function app's blob extension webhook, once the code (and with it the
# blobs_extension system key) is deployed. See postdeploy.sh for the reasoning.
# It uses the Azure CLI, signed in separately from azd (`az login`). Every az call names the
# subscription, and a failing az call stops the hook at once with az's own error.
$ErrorActionPreference = 'Stop'

foreach ($name in 'AZURE_SUBSCRIPTION_ID', 'AZURE_RESOURCE_GROUP', 'AZURE_FUNCTION_APP_NAME', 'AZURE_EVENTGRID_SYSTEM_TOPIC_NAME', 'AZURE_STORAGE_ACCOUNT_NAME') {
    if (-not [Environment]::GetEnvironmentVariable($name)) { throw "Set $name (azd env get-values, or the deployment outputs)." }
}
$subscription = $env:AZURE_SUBSCRIPTION_ID
$resourceGroup = $env:AZURE_RESOURCE_GROUP
$app = $env:AZURE_FUNCTION_APP_NAME
$container = if ($env:AZURE_CATALOG_CONTAINER_NAME) { $env:AZURE_CATALOG_CONTAINER_NAME } else { 'catalogs' }
$deadLetterContainer = if ($env:AZURE_DEADLETTER_CONTAINER_NAME) { $env:AZURE_DEADLETTER_CONTAINER_NAME } else { 'catalog-deadletter' }
$functionName = if ($env:AZURE_CATALOG_FUNCTION_NAME) { $env:AZURE_CATALOG_FUNCTION_NAME } else { 'IngestCatalog' }
$attempts = if ($env:POSTDEPLOY_KEY_ATTEMPTS) { [int]$env:POSTDEPLOY_KEY_ATTEMPTS } else { 30 }

if (-not (Get-Command az -ErrorAction SilentlyContinue)) {
    throw 'The Azure CLI (az) is required: https://learn.microsoft.com/cli/azure/install-azure-cli'
}

$azErrors = New-TemporaryFile
$parameters = New-TemporaryFile
try {
    # Stops with what az said: the real cause, never a timeout that blames the code deployment.
    function Stop-AzFailed([string]$command, [string]$hint = '') {
        $details = Get-Content -Path $azErrors -Raw
        throw "postdeploy: '$command' failed. $hint`n$details"
    }

    az account show --subscription $subscription --output none 2>$azErrors
    if ($LASTEXITCODE -ne 0) {
        Stop-AzFailed 'az account show' "The Azure CLI cannot use subscription $subscription; it is signed in separately from azd: run 'az login' (in a pipeline: azure/login or 'az login --service-principal')."
    }

    # An empty answer means "not yet"; a failing az call ends the hook.
    $key = ''
    for ($attempt = 1; $attempt -le $attempts -and -not $key; $attempt++) {
        $key = az functionapp keys list --subscription $subscription --resource-group $resourceGroup --name $app --query 'systemKeys.blobs_extension' --output tsv 2>$azErrors
        if ($LASTEXITCODE -ne 0) { Stop-AzFailed 'az functionapp keys list' }
        if (-not $key) { Write-Host "Waiting for the blobs_extension key of $app ($attempt/$attempts)..."; Start-Sleep -Seconds 10 }
    }
    if (-not $key) { throw "postdeploy: no blobs_extension key after $attempts attempts: is the code deployed and does it contain the blob-triggered function $functionName?" }

    @{ blobsExtensionKey = @{ value = "$key".Trim() } } | ConvertTo-Json -Depth 3 | Set-Content -Path $parameters -Encoding utf8
    az deployment group create --subscription $subscription --resource-group $resourceGroup --name catalog-events `
        --template-file (Join-Path $PSScriptRoot '../modules/catalog-events.bicep') `
        --parameters "@$parameters" `
        --parameters systemTopicName=$env:AZURE_EVENTGRID_SYSTEM_TOPIC_NAME functionAppName=$app functionName=$functionName containerName=$container `
        storageAccountName=$env:AZURE_STORAGE_ACCOUNT_NAME deadLetterContainerName=$deadLetterContainer `
        --only-show-errors --output none 2>$azErrors
    if ($LASTEXITCODE -ne 0) { Stop-AzFailed 'az deployment group create' }
}
finally {
    Remove-Item $parameters, $azErrors -ErrorAction SilentlyContinue
}
Write-Host "Event Grid subscription created: BlobCreated in '$container' -> $app/$functionName (dead letters: '$deadLetterContainer')."
