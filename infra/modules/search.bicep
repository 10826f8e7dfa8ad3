// Azure AI Search. API keys are disabled (disableLocalAuth), so the function app reaches the
// service with its managed identity and the Search Index Data Contributor role.

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

@description('Replicas (query throughput and availability; 2 or more for the read SLA).')
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
    publicNetworkAccess: 'enabled'
    disableLocalAuth: true
    // The free tier has no semantic ranker; leave the property out there instead of failing the deployment.
    semanticSearch: sku == 'free' ? null : semanticSearch
  }
}

@description('Search service name.')
output name string = search.name

@description('Search service resource id.')
output id string = search.id

@description('Search endpoint, e.g. https://NAME.search.windows.net.')
output endpoint string = 'https://${search.name}.search.windows.net'
