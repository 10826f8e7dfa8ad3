// Azure AI Search. API keys are disabled (disableLocalAuth), so the function app reaches the
// service with its managed identity and the Search Index Data Contributor role. With privateOnly,
// public network access is off and the service is reached through its private endpoint.

@description('Azure region.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Search service name (2-60 lowercase letters, digits and dashes).')
@minLength(2)
@maxLength(60)
param name string

@description('Pricing tier.')
@allowed([
  'free'
  'basic'
  'standard'
  'standard2'
  'standard3'
  'storage_optimized_l1'
  'storage_optimized_l2'
])
param sku string

@description('Replicas (query throughput and availability; 2 or more for the read SLA, spread over zones where the region has them).')
@minValue(1)
@maxValue(12)
param replicaCount int

@description('Partitions (storage and indexing throughput).')
@allowed([1, 2, 3, 4, 6, 12])
param partitionCount int

@description('Semantic ranker plan: disabled, free (1,000 queries a month) or standard (billed per query).')
@allowed([
  'disabled'
  'free'
  'standard'
])
param semanticSearch string

@description('Disable public network access (private endpoint only; vnetEnabled).')
param privateOnly bool

@description('Log Analytics workspace for the diagnostic settings.')
param logAnalyticsId string

// environment() has no Search suffix, so the endpoint host comes from the cloud's name.
var searchDnsSuffix = {
  AzureUSGovernment: 'search.azure.us'
  AzureChinaCloud: 'search.azure.cn'
}[?environment().name] ?? 'search.windows.net'

resource search 'Microsoft.Search/searchServices@2023-11-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: sku
  }
  properties: {
    replicaCount: replicaCount
    partitionCount: partitionCount
    hostingMode: 'default'
    publicNetworkAccess: privateOnly ? 'disabled' : 'enabled'
    disableLocalAuth: true
    // The free tier has no semantic ranker; leave the property out there instead of failing the deployment.
    semanticSearch: sku == 'free' ? null : semanticSearch
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: search
  properties: {
    workspaceId: logAnalyticsId
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

@description('Search service name.')
output name string = search.name

@description('Search service resource id.')
output id string = search.id

@description('Search endpoint, e.g. https://NAME.search.windows.net (the cloud\'s own suffix).')
output endpoint string = 'https://${search.name}.${searchDnsSuffix}'

@description('Private DNS zone for the Search private endpoint in this cloud.')
output privateDnsZoneName string = 'privatelink.${searchDnsSuffix}'
