# Windows twin of postdeploy.sh: creates the Event Grid subscription that sends BlobCreated events for
# the catalogs container to the function app's blob extension webhook, once the code (and with it the
# blobs_extension system key) is deployed. See postdeploy.sh for the reasoning.
$ErrorActionPreference = 'Stop'

foreach ($name in 'AZURE_RESOURCE_GROUP', 'AZURE_FUNCTION_APP_NAME', 'AZURE_EVENTGRID_SYSTEM_TOPIC_NAME') {
    if (-not [Environment]::GetEnvironmentVariable($name)) { throw "Set $name (azd env get-values, or the deployment outputs)." }
}
$resourceGroup = $env:AZURE_RESOURCE_GROUP
$app = $env:AZURE_FUNCTION_APP_NAME
$container = if ($env:AZURE_CATALOG_CONTAINER_NAME) { $env:AZURE_CATALOG_CONTAINER_NAME } else { 'catalogs' }
$functionName = if ($env:AZURE_CATALOG_FUNCTION_NAME) { $env:AZURE_CATALOG_FUNCTION_NAME } else { 'IngestCatalog' }

$key = ''
for ($attempt = 1; $attempt -le 30 -and -not $key; $attempt++) {
    $key = az functionapp keys list --resource-group $resourceGroup --name $app --query 'systemKeys.blobs_extension' --output tsv 2>$null
    if (-not $key) { Write-Host "Waiting for the blobs_extension key of $app ($attempt/30)..."; Start-Sleep -Seconds 10 }
}
if (-not $key) { throw "No blobs_extension key: is the code deployed and does it contain the blob-triggered function $functionName?" }

$parameters = New-TemporaryFile
try {
    @{ blobsExtensionKey = @{ value = $key } } | ConvertTo-Json -Depth 3 | Set-Content -Path $parameters -Encoding utf8
    az deployment group create --resource-group $resourceGroup --name catalog-events `
        --template-file (Join-Path $PSScriptRoot '../modules/catalog-events.bicep') `
        --parameters "@$parameters" `
        --parameters systemTopicName=$env:AZURE_EVENTGRID_SYSTEM_TOPIC_NAME functionAppName=$app functionName=$functionName containerName=$container `
        --only-show-errors --output none
    if ($LASTEXITCODE -ne 0) { throw 'az deployment group create failed.' }
}
finally {
    Remove-Item $parameters -ErrorAction SilentlyContinue
}
Write-Host "Event Grid subscription created: BlobCreated in '$container' -> $app/$functionName."
