// Product similarity on Azure: storage (catalog uploads), Event Grid, a Flex Consumption function
// app (.NET 10 isolated), Azure AI Search, monitoring and, optionally, Azure OpenAI embeddings.
// Deploy with `azd up` (azure.yaml at the repository root) or `az deployment group create`; see
// docs/deploy.md. Everything authenticates with Entra ID: no keys, connection secrets or passwords.
targetScope = 'resourceGroup'

@minLength(1)
@maxLength(64)
@description('Environment name (azd AZURE_ENV_NAME); seeds the unique resource names and the azd-env-name tag.')
param environmentName string

@description('Region for all resources. The Flex Consumption plan must be offered there.')
param location string = resourceGroup().location

@description('Object id of a user or service principal given blob data access for uploads; empty for none (azd sets AZURE_PRINCIPAL_ID).')
param principalId string = ''

@description('Type of principalId.')
@allowed([
  'User'
  'ServicePrincipal'
  'Group'
])
param principalType string = 'User'

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

@description('Azure AI Search replicas.')
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

@description('Region of the Azure OpenAI account (the embedding model must be offered there).')
param openAiLocation string = location

@description('Embedding model.')
param openAiEmbeddingModel string = 'text-embedding-3-small'

@description('Embedding model version.')
param openAiEmbeddingModelVersion string = '1'

@description('Name of the embedding deployment the app calls.')
param openAiEmbeddingDeploymentName string = 'text-embedding-3-small'

@description('Embedding dimensions the app requests (text-embedding-3 models can shorten their vectors).')
@minValue(1)
@maxValue(3072)
param openAiEmbeddingDimensions int = 1536

@description('Deployment SKU.')
@allowed([
  'Standard'
  'GlobalStandard'
])
param openAiDeploymentSku string = 'Standard'

@description('Deployment capacity in thousands of tokens per minute.')
@minValue(1)
param openAiDeploymentCapacity int = 30

// Function app.
@description('Memory per Flex Consumption instance in MB (the ONNX model wants 2048 or more).')
@allowed([512, 2048, 4096])
param functionInstanceMemoryMB int = 2048

@description('Upper bound on Flex Consumption scale-out.')
@minValue(1)
@maxValue(1000)
param functionMaximumInstanceCount int = 40

@description('Days Log Analytics keeps data.')
@minValue(30)
@maxValue(730)
param logRetentionInDays int = 30

// Event Grid subscription (second step; see modules/catalog-events.bicep).
@description('The function app\'s blobs_extension system key. Empty on the first deployment; set it (or run infra/hooks/postdeploy.sh) after the code is deployed to create the catalog event subscription.')
@secure()
param blobsExtensionKey string = ''

@description('Name of the blob-triggered ingestion function.')
param catalogFunctionName string = 'IngestCatalog'

var serviceName = 'api'
var resourceToken = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
  application: 'product-similarity'
}

var names = {
  identity: 'id-psim-${resourceToken}'
  storage: 'stpsim${take(resourceToken, 16)}'
  logAnalytics: 'log-psim-${resourceToken}'
  applicationInsights: 'appi-psim-${resourceToken}'
  search: 'srch-psim-${resourceToken}'
  openAi: 'oai-psim-${resourceToken}'
  plan: 'plan-psim-${resourceToken}'
  functionApp: 'func-psim-${resourceToken}'
  systemTopic: 'evgt-psim-${resourceToken}'
}

var containers = {
  catalogs: 'catalogs'
  status: 'catalog-status'
  errors: 'catalog-errors'
  // Flex Consumption reads the app package from this container.
  deployment: 'app-package-${take(resourceToken, 7)}'
}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: names.identity
  location: location
  tags: tags
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    location: location
    tags: tags
    name: names.storage
    containerNames: [
      containers.catalogs
      containers.status
      containers.errors
      containers.deployment
    ]
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    location: location
    tags: tags
    logAnalyticsName: names.logAnalytics
    applicationInsightsName: names.applicationInsights
    retentionInDays: logRetentionInDays
  }
}

module search 'modules/search.bicep' = {
  name: 'search'
  params: {
    location: location
    tags: tags
    name: names.search
    sku: searchSku
    replicaCount: searchReplicaCount
    partitionCount: searchPartitionCount
    semanticSearch: searchSemanticRanker
  }
}

module openAi 'modules/openai.bicep' = if (enableAzureOpenAI) {
  name: 'openai'
  params: {
    location: openAiLocation
    tags: tags
    name: names.openAi
    deploymentName: openAiEmbeddingDeploymentName
    modelName: openAiEmbeddingModel
    modelVersion: openAiEmbeddingModelVersion
    deploymentSku: openAiDeploymentSku
    capacity: openAiDeploymentCapacity
  }
}

module roles 'modules/role-assignments.bicep' = {
  name: 'role-assignments'
  params: {
    principalId: identity.properties.principalId
    storageAccountName: storage.outputs.name
    searchServiceName: search.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    openAiAccountName: enableAzureOpenAI ? names.openAi : ''
    userPrincipalId: principalId
    userPrincipalType: principalType
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
  : {
      ProductSimilarity__Embeddings__Provider: 'Onnx'
    }

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
  CatalogStorage__clientId: identity.properties.clientId
}

// DefaultAzureCredential in the app (Search, OpenAI, Blob clients) picks the user-assigned identity from this.
var identitySettings = {
  AZURE_CLIENT_ID: identity.properties.clientId
}

module functionApp 'modules/function-app.bicep' = {
  name: 'function-app'
  params: {
    location: location
    tags: tags
    planName: names.plan
    name: names.functionApp
    serviceName: serviceName
    identityId: identity.id
    identityClientId: identity.properties.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerName: containers.deployment
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    instanceMemoryMB: functionInstanceMemoryMB
    maximumInstanceCount: functionMaximumInstanceCount
    appSettings: union(indexSettings, embeddingSettings, ingestionSettings, catalogStorageSettings, identitySettings)
  }
  // The host starts as soon as the app exists; give it its storage and telemetry roles first.
  dependsOn: [
    roles
  ]
}

module eventGrid 'modules/event-grid.bicep' = {
  name: 'event-grid'
  params: {
    location: location
    tags: tags
    name: names.systemTopic
    storageAccountName: storage.outputs.name
  }
}

module catalogEvents 'modules/catalog-events.bicep' = if (!empty(blobsExtensionKey)) {
  name: 'catalog-events'
  params: {
    systemTopicName: eventGrid.outputs.name
    functionAppName: functionApp.outputs.name
    functionName: catalogFunctionName
    containerName: containers.catalogs
    blobsExtensionKey: blobsExtensionKey
  }
}

// azd reads these into the environment (.azure/ENV/.env); the postdeploy hook uses them.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = resourceGroup().name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_FUNCTION_APP_URL string = functionApp.outputs.url
output AZURE_SEARCH_ENDPOINT string = search.outputs.endpoint
output AZURE_SEARCH_INDEX_NAME string = searchIndexName
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_STORAGE_BLOB_ENDPOINT string = storage.outputs.blobEndpoint
output AZURE_CATALOG_CONTAINER_NAME string = containers.catalogs
output AZURE_EVENTGRID_SYSTEM_TOPIC_NAME string = eventGrid.outputs.name
output AZURE_CATALOG_FUNCTION_NAME string = catalogFunctionName
output AZURE_OPENAI_ENDPOINT string = enableAzureOpenAI ? openAi.?outputs.endpoint ?? '' : ''
output AZURE_CLIENT_ID string = identity.properties.clientId
output SERVICE_API_NAME string = functionApp.outputs.name
output SERVICE_API_URI string = functionApp.outputs.url
