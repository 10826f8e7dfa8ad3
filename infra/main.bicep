// Product similarity on Azure: storage (catalog uploads), Event Grid, a Flex Consumption function
// app (.NET 10 isolated), Azure AI Search, monitoring with alert rules and, optionally, Azure OpenAI
// embeddings and private networking. Deploy with `azd up` (azure.yaml at the repository root) or
// `az deployment sub create`; see docs/deploy.md. Everything authenticates with Entra ID: no keys,
// connection secrets or passwords.
//
// Subscription scope, the azd convention: the deployment creates its own resource group (rg-<environment>
// unless resourceGroupName says otherwise) in AZURE_LOCATION, so the location azd asks for is the one used.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Environment name (azd AZURE_ENV_NAME); seeds the unique resource names and the azd-env-name tag.')
param environmentName string

@minLength(1)
@description('Region for all resources (azd AZURE_LOCATION). It must offer the Flex Consumption plan; see flexConsumptionRegions below.')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Deploy to a region that is not in the Flex Consumption list below (a new region, or a sovereign cloud). Check with `az functionapp list-flexconsumption-locations` first.')
param skipRegionCheck bool = false

@description('Resource group to create or update; empty for rg-<environmentName> (azd sets AZURE_RESOURCE_GROUP once it exists).')
param resourceGroupName string = ''

@description('Object id of the deploying user or service principal, given the developerRoles; empty for none (azd sets AZURE_PRINCIPAL_ID).')
param principalId string = ''

@description('Type of principalId. Empty lets Azure resolve it (right for any principal that already exists); main.bicepparam sets ServicePrincipal in CI.')
@allowed([
  ''
  'User'
  'ServicePrincipal'
  'Group'
])
param principalType string = ''

@description('Data-plane roles for principalId, so local runs and the portal work with keys off. Remove any you do not want.')
@allowed([
  'StorageBlobDataContributor'
  'StorageQueueDataReader'
  'StorageTableDataReader'
  'SearchIndexDataReader'
  'SearchIndexDataContributor'
  'MonitoringReader'
])
param developerRoles string[] = [
  'StorageBlobDataContributor'
  'StorageQueueDataReader'
  'StorageTableDataReader'
  'SearchIndexDataReader'
  'SearchIndexDataContributor'
  'MonitoringReader'
]

// Networking and availability.
@description('Private networking: a VNet, Flex Consumption VNet integration and private endpoints (blob, queue, table, Search, Azure OpenAI) with private DNS zones; public network access off on each. Off for the quick start.')
param vnetEnabled bool = false

@description('VNet address space (vnetEnabled).')
param vnetAddressPrefix string = '10.0.0.0/16'

@description('Subnet for private endpoints (vnetEnabled).')
param privateEndpointSubnetPrefix string = '10.0.1.0/24'

@description('Subnet delegated to Flex Consumption (Microsoft.App/environments) for VNet integration (vnetEnabled).')
param appSubnetPrefix string = '10.0.2.0/24'

@description('Zone-redundant Flex Consumption plan and zone-redundant storage (ZRS). The region must have availability zones.')
param zoneRedundant bool = false

// Azure AI Search.
@description('Azure AI Search pricing tier.')
@allowed([
  'free'
  'basic'
  'standard'
  'standard2'
  'standard3'
  'storage_optimized_l1'
  'storage_optimized_l2'
])
param searchSku string = 'basic'

@description('Azure AI Search replicas (2 or more for the read SLA and zone redundancy, 3 for read-write).')
@minValue(1)
@maxValue(12)
param searchReplicaCount int = 1

@description('Azure AI Search partitions.')
@allowed([1, 2, 3, 4, 6, 12])
param searchPartitionCount int = 1

@description('Semantic ranker plan: disabled, free or standard.')
@allowed([
  'disabled'
  'free'
  'standard'
])
param searchSemanticRanker string = 'disabled'

@description('Name of the products index the app creates and fills.')
param searchIndexName string = 'products'

@description('Analyzer for product text fields.')
@allowed([
  'en.lucene'
  'zh-Hans.lucene'
  'zh-Hans.microsoft'
  'psim-cjk-bigram'
  'standard.lucene'
])
param searchAnalyzer string = 'en.lucene'

// Ingestion.
@description('Upsert keeps products missing from a new file; Snapshot removes them.')
@allowed([
  'Upsert'
  'Snapshot'
])
param ingestionMode string = 'Upsert'

// Embeddings.
@description('Deploy Azure OpenAI and embed with it; false embeds with the bundled ONNX model inside the function app.')
param enableAzureOpenAI bool = false

@description('Region of the Azure OpenAI account; empty for location. The model and SKU must be offered there (`az cognitiveservices model list -l REGION`).')
param openAiLocation string = ''

@description('Embedding model.')
param openAiEmbeddingModel string = 'text-embedding-3-small'

@description('Embedding model version.')
param openAiEmbeddingModelVersion string = '1'

@description('Name of the embedding deployment the app calls.')
param openAiEmbeddingDeploymentName string = 'text-embedding-3-small'

@description('Folder in the "models" container with model.onnx, vocab.txt and model-card.json (a psim train --out folder, uploaded); the app downloads it at start-up. Empty: the model in the deployment package (ProductSimilarity__Embeddings__Onnx__ModelPath) or the bundled one.')
param modelBlobFolder string = ''

@description('Embedding dimensions the app requests (text-embedding-3 models can shorten their vectors).')
@minValue(1)
@maxValue(3072)
param openAiEmbeddingDimensions int = 1536

@description('Deployment SKU: GlobalStandard (offered in the most regions, highest default quota) or Standard (processing stays in the region).')
@allowed([
  'Standard'
  'GlobalStandard'
  'DataZoneStandard'
])
param openAiDeploymentSku string = 'GlobalStandard'

@description('Deployment capacity in thousands of tokens per minute.')
@minValue(1)
param openAiDeploymentCapacity int = 30

// Function app scale (Flex Consumption).
@description('Memory per Flex Consumption instance in MB. The bundled ONNX model needs 2048 or more; 512 is refused unless enableAzureOpenAI is true.')
@allowed([512, 2048, 4096])
param functionInstanceMemoryMB int = 2048

@description('Upper bound on on-demand instances per function group. The Flex Consumption documented range is 40 to 1000.')
@minValue(40)
@maxValue(1000)
param functionMaximumInstanceCount int = 40

@description('Always-ready instances for the HTTP function group (0: scale to zero, cold starts; each instance is billed while idle).')
@minValue(0)
@maxValue(1000)
param functionAlwaysReadyHttpInstances int = 0

@description('Concurrent HTTP requests per instance; 0 keeps the platform default for the instance size.')
@minValue(0)
@maxValue(1000)
param functionHttpPerInstanceConcurrency int = 0

// Monitoring and alerts.
@description('Days Log Analytics keeps data.')
@minValue(30)
@maxValue(730)
param logRetentionInDays int = 30

@description('E-mail address the alert action group notifies; empty creates the group without a receiver (add one in the portal).')
param alertEmail string = ''

@description('Alert when the 95th percentile of HTTP query latency over 15 minutes exceeds this many milliseconds.')
@minValue(1)
param queryLatencyP95ThresholdMs int = 1000

@description('Alert when more than this many HTTP requests fail with a 5xx status in 15 minutes.')
@minValue(0)
param http5xxThreshold int = 5

// Event Grid subscription (second step; see modules/catalog-events.bicep).
@description('The function app\'s blobs_extension system key. Empty on the first deployment; set it (or run infra/hooks/postdeploy.sh) after the code is deployed to create the catalog event subscription.')
@secure()
param blobsExtensionKey string = ''

@description('Name of the blob-triggered ingestion function.')
param catalogFunctionName string = 'IngestCatalog'

// Resource names: empty keeps the generated default (the names earlier versions of this template used).
@description('Managed identity name; empty for id-psim-<token>.')
param identityName string = ''
@description('Storage account name; empty for stpsim<token>.')
param storageAccountName string = ''
@description('Log Analytics workspace name; empty for log-psim-<token>.')
param logAnalyticsName string = ''
@description('Application Insights name; empty for appi-psim-<token>.')
param applicationInsightsName string = ''
@description('Azure AI Search service name; empty for srch-psim-<token>.')
param searchServiceName string = ''
@description('Azure OpenAI account name (also its subdomain); empty for oai-psim-<token>.')
param openAiAccountName string = ''
@description('Flex Consumption plan name; empty for plan-psim-<token>.')
param functionPlanName string = ''
@description('Function app name; empty for func-psim-<token>.')
param functionAppName string = ''
@description('Event Grid system topic name; empty for evgt-psim-<token>.')
param systemTopicName string = ''
@description('Virtual network name (vnetEnabled); empty for vnet-psim-<token>.')
param vnetName string = ''
@description('Alert action group name; empty for ag-psim-<token>.')
param actionGroupName string = ''

// Regions that offer the Flex Consumption plan (az functionapp list-flexconsumption-locations).
var flexConsumptionRegions = [
  'australiaeast'
  'australiasoutheast'
  'brazilsouth'
  'canadacentral'
  'centralindia'
  'centralus'
  'eastasia'
  'eastus'
  'eastus2'
  'francecentral'
  'germanywestcentral'
  'italynorth'
  'japaneast'
  'koreacentral'
  'northcentralus'
  'northeurope'
  'norwayeast'
  'southafricanorth'
  'southcentralus'
  'southeastasia'
  'southindia'
  'spaincentral'
  'swedencentral'
  'uaenorth'
  'uksouth'
  'ukwest'
  'westcentralus'
  'westeurope'
  'westus'
  'westus2'
  'westus3'
]

var regionChecked = skipRegionCheck || contains(flexConsumptionRegions, toLower(location))
  ? location
  : fail('Region \'${location}\' is not in the Flex Consumption region list of infra/main.bicep. Pick one of: ${join(flexConsumptionRegions, ', ')}; or, if `az functionapp list-flexconsumption-locations` lists it, set skipRegionCheck=true.')

// The bundled ONNX model and its tokenizer do not fit a 512 MB instance; refuse instead of deploying an app
// that is killed for memory on its first ingestion.
var functionMemoryChecked = !enableAzureOpenAI && functionInstanceMemoryMB < 2048
  ? fail('functionInstanceMemoryMB=${functionInstanceMemoryMB} is too small for the bundled ONNX embedding model: use 2048 or 4096, or set enableAzureOpenAI=true to embed with Azure OpenAI.')
  : functionInstanceMemoryMB

var rgName = !empty(resourceGroupName) ? resourceGroupName : 'rg-${environmentName}'
// Same inputs as the resource-group-scoped template before it (resourceGroup().id), so names stay stable.
var resourceToken = toLower(uniqueString(
  subscription().id,
  '/subscriptions/${subscription().subscriptionId}/resourceGroups/${rgName}',
  environmentName,
  location
))
var serviceName = 'api'
var tags = {
  'azd-env-name': environmentName
  application: 'product-similarity'
}

var names = {
  identity: !empty(identityName) ? identityName : 'id-psim-${resourceToken}'
  storage: !empty(storageAccountName) ? storageAccountName : 'stpsim${take(resourceToken, 16)}'
  logAnalytics: !empty(logAnalyticsName) ? logAnalyticsName : 'log-psim-${resourceToken}'
  applicationInsights: !empty(applicationInsightsName) ? applicationInsightsName : 'appi-psim-${resourceToken}'
  search: !empty(searchServiceName) ? searchServiceName : 'srch-psim-${resourceToken}'
  openAi: !empty(openAiAccountName) ? openAiAccountName : 'oai-psim-${resourceToken}'
  plan: !empty(functionPlanName) ? functionPlanName : 'plan-psim-${resourceToken}'
  functionApp: !empty(functionAppName) ? functionAppName : 'func-psim-${resourceToken}'
  systemTopic: !empty(systemTopicName) ? systemTopicName : 'evgt-psim-${resourceToken}'
  vnet: !empty(vnetName) ? vnetName : 'vnet-psim-${resourceToken}'
  actionGroup: !empty(actionGroupName) ? actionGroupName : 'ag-psim-${resourceToken}'
}

var containers = {
  catalogs: 'catalogs'
  status: 'catalog-status'
  errors: 'catalog-errors'
  // Event Grid keeps the events it could not deliver here (dead-lettering).
  deadLetter: 'catalog-deadletter'
  // Fine-tuned embedding models (psim train --out folders); the app reads them (Storage Blob Data Reader).
  models: 'models'
  // Flex Consumption reads the app package from this container.
  deployment: 'app-package-${take(resourceToken, 7)}'
}

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: rgName
  location: regionChecked
  tags: tags
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    location: location
    tags: tags
    name: names.identity
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    location: location
    tags: tags
    logAnalyticsName: names.logAnalytics
    applicationInsightsName: names.applicationInsights
    retentionInDays: logRetentionInDays
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    location: location
    tags: tags
    name: names.storage
    zoneRedundant: zoneRedundant
    privateOnly: vnetEnabled
    logAnalyticsId: monitoring.outputs.logAnalyticsId
    containerNames: [
      containers.catalogs
      containers.status
      containers.errors
      containers.deadLetter
      containers.models
      containers.deployment
    ]
  }
}

module search 'modules/search.bicep' = {
  name: 'search'
  scope: rg
  params: {
    location: location
    tags: tags
    name: names.search
    sku: searchSku
    replicaCount: searchReplicaCount
    partitionCount: searchPartitionCount
    semanticSearch: searchSemanticRanker
    privateOnly: vnetEnabled
    logAnalyticsId: monitoring.outputs.logAnalyticsId
  }
}

module openAi 'modules/openai.bicep' = if (enableAzureOpenAI) {
  name: 'openai'
  scope: rg
  params: {
    location: !empty(openAiLocation) ? openAiLocation : location
    tags: tags
    name: names.openAi
    deploymentName: openAiEmbeddingDeploymentName
    modelName: openAiEmbeddingModel
    modelVersion: openAiEmbeddingModelVersion
    deploymentSku: openAiDeploymentSku
    capacity: openAiDeploymentCapacity
    privateOnly: vnetEnabled
  }
}

module network 'modules/network.bicep' = if (vnetEnabled) {
  name: 'network'
  scope: rg
  params: {
    location: location
    tags: tags
    name: names.vnet
    addressPrefix: vnetAddressPrefix
    privateEndpointSubnetPrefix: privateEndpointSubnetPrefix
    appSubnetPrefix: appSubnetPrefix
    storageAccountName: storage.outputs.name
    searchServiceName: search.outputs.name
    openAiAccountName: enableAzureOpenAI ? names.openAi : ''
  }
  dependsOn: [
    openAi
  ]
}

module roles 'modules/role-assignments.bicep' = {
  name: 'role-assignments'
  scope: rg
  params: {
    principalId: identity.outputs.principalId
    storageAccountName: storage.outputs.name
    modelsContainerName: containers.models
    searchServiceName: search.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    openAiAccountName: enableAzureOpenAI ? names.openAi : ''
    developerPrincipalId: principalId
    developerPrincipalType: principalType
    developerRoles: developerRoles
  }
  // The OpenAI role is scoped to the account, which must exist first.
  dependsOn: [
    openAi
  ]
}

// The app's own settings: every key in ProductSimilarity.Core.Configuration.CloudSettings
// (an infrastructure test checks that this object covers them).
var indexSettings = {
  ProductSimilarity__Index__Provider: 'AzureAISearch'
  ProductSimilarity__Index__AzureAISearch__Endpoint: search.outputs.endpoint
  ProductSimilarity__Index__AzureAISearch__IndexName: searchIndexName
  ProductSimilarity__Index__AzureAISearch__Analyzer: searchAnalyzer
}

var embeddingSettings = enableAzureOpenAI
  ? {
      ProductSimilarity__Embeddings__Provider: 'AzureOpenAI'
      ProductSimilarity__Embeddings__AzureOpenAI__Endpoint: openAi.?outputs.endpoint ?? ''
      ProductSimilarity__Embeddings__AzureOpenAI__Deployment: openAiEmbeddingDeploymentName
      ProductSimilarity__Embeddings__AzureOpenAI__Dimensions: string(openAiEmbeddingDimensions)
    }
  : union(
      {
        ProductSimilarity__Embeddings__Provider: 'Onnx'
      },
      empty(modelBlobFolder)
        ? {}
        : {
            ProductSimilarity__Embeddings__Onnx__ModelBlobUrl: '${storage.outputs.blobEndpoint}${containers.models}/${modelBlobFolder}/'
          }
    )

var ingestionSettings = {
  ProductSimilarity__Ingestion__Mode: ingestionMode
  ProductSimilarity__Ingestion__StatusContainer: containers.status
  ProductSimilarity__Ingestion__ErrorContainer: containers.errors
}

// The blob trigger's connection "CatalogStorage", identity-based.
var catalogStorageSettings = {
  CatalogStorage__blobServiceUri: storage.outputs.blobEndpoint
  CatalogStorage__queueServiceUri: storage.outputs.queueEndpoint
  CatalogStorage__credential: 'managedidentity'
  CatalogStorage__clientId: identity.outputs.clientId
}

// DefaultAzureCredential in the app (Search, OpenAI, Blob clients) picks the user-assigned identity from this.
var identitySettings = {
  AZURE_CLIENT_ID: identity.outputs.clientId
}

module functionApp 'modules/function-app.bicep' = {
  name: 'function-app'
  scope: rg
  params: {
    location: location
    tags: tags
    planName: names.plan
    name: names.functionApp
    serviceName: serviceName
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerName: containers.deployment
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    logAnalyticsId: monitoring.outputs.logAnalyticsId
    instanceMemoryMB: functionMemoryChecked
    maximumInstanceCount: functionMaximumInstanceCount
    alwaysReadyHttpInstances: functionAlwaysReadyHttpInstances
    httpPerInstanceConcurrency: functionHttpPerInstanceConcurrency
    zoneRedundant: zoneRedundant
    subnetId: vnetEnabled ? network.?outputs.appSubnetId ?? '' : ''
    appSettings: union(indexSettings, embeddingSettings, ingestionSettings, catalogStorageSettings, identitySettings)
  }
  // The host starts as soon as the app exists; give it its storage and telemetry roles first (with
  // vnetEnabled, subnetId already makes it wait for the network and its private endpoints).
  dependsOn: [
    roles
  ]
}

module eventGrid 'modules/event-grid.bicep' = {
  name: 'event-grid'
  scope: rg
  params: {
    location: location
    tags: tags
    name: names.systemTopic
    storageAccountName: storage.outputs.name
    deadLetterContainerName: containers.deadLetter
    logAnalyticsId: monitoring.outputs.logAnalyticsId
  }
}

module catalogEvents 'modules/catalog-events.bicep' = if (!empty(blobsExtensionKey)) {
  name: 'catalog-events'
  scope: rg
  params: {
    systemTopicName: eventGrid.outputs.name
    functionAppName: functionApp.outputs.name
    functionName: catalogFunctionName
    containerName: containers.catalogs
    storageAccountName: storage.outputs.name
    deadLetterContainerName: containers.deadLetter
    blobsExtensionKey: blobsExtensionKey
  }
  // Dead-lettering writes with the topic identity: eventGrid.outputs.name makes this wait for the whole
  // event-grid module, the identity's blob role included.
}

module alerts 'modules/alerts.bicep' = {
  name: 'alerts'
  scope: rg
  params: {
    location: location
    tags: tags
    actionGroupName: names.actionGroup
    alertEmail: alertEmail
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    functionAppName: functionApp.outputs.name
    catalogFunctionName: catalogFunctionName
    queryLatencyP95ThresholdMs: queryLatencyP95ThresholdMs
    http5xxThreshold: http5xxThreshold
  }
}

// azd reads these into the environment (.azure/ENV/.env); the postdeploy hook and local development use them.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_SUBSCRIPTION_ID string = subscription().subscriptionId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_FUNCTION_APP_URL string = functionApp.outputs.url
output AZURE_SEARCH_ENDPOINT string = search.outputs.endpoint
output AZURE_SEARCH_INDEX_NAME string = searchIndexName
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_STORAGE_BLOB_ENDPOINT string = storage.outputs.blobEndpoint
output AZURE_CATALOG_CONTAINER_NAME string = containers.catalogs
output AZURE_DEADLETTER_CONTAINER_NAME string = containers.deadLetter
output AZURE_EVENTGRID_SYSTEM_TOPIC_NAME string = eventGrid.outputs.name
output AZURE_CATALOG_FUNCTION_NAME string = catalogFunctionName
output AZURE_OPENAI_ENDPOINT string = enableAzureOpenAI ? openAi.?outputs.endpoint ?? '' : ''
output AZURE_FUNCTION_IDENTITY_CLIENT_ID string = identity.outputs.clientId
// Local development (`psim serve` against the deployed index, telemetry to the same component). The
// connection string only locates the component; with local auth off, telemetry still needs an Entra token.
output APPLICATIONINSIGHTS_CONNECTION_STRING string = monitoring.outputs.connectionString
output ProductSimilarity__Index__Provider string = 'AzureAISearch'
output ProductSimilarity__Index__AzureAISearch__Endpoint string = search.outputs.endpoint
output ProductSimilarity__Index__AzureAISearch__IndexName string = searchIndexName
output SERVICE_API_NAME string = functionApp.outputs.name
output SERVICE_API_URI string = functionApp.outputs.url
