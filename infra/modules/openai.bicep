// Optional Azure OpenAI account with one embedding deployment. Keys are disabled (disableLocalAuth);
// the function app calls it with its managed identity and the Cognitive Services OpenAI User role.
// With privateOnly, public network access is off and the account is reached through its private endpoint.

@description('Azure region (the embedding model must be offered there).')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Account name; also the custom subdomain of the endpoint.')
param name string

@description('Deployment name the app calls.')
param deploymentName string

@description('Embedding model name, e.g. text-embedding-3-small.')
param modelName string

@description('Model version.')
param modelVersion string

@description('Deployment SKU: GlobalStandard, DataZoneStandard or Standard (regional).')
@allowed([
  'Standard'
  'GlobalStandard'
  'DataZoneStandard'
])
param deploymentSku string

@description('Capacity in thousands of tokens per minute.')
@minValue(1)
param capacity int

@description('Disable public network access (private endpoint only; vnetEnabled).')
param privateOnly bool

resource account 'Microsoft.CognitiveServices/accounts@2024-10-01' = {
  name: name
  location: location
  tags: tags
  kind: 'OpenAI'
  sku: {
    name: 'S0'
  }
  properties: {
    customSubDomainName: name
    disableLocalAuth: true
    publicNetworkAccess: privateOnly ? 'Disabled' : 'Enabled'
    networkAcls: {
      defaultAction: privateOnly ? 'Deny' : 'Allow'
    }
  }
}

resource embeddingDeployment 'Microsoft.CognitiveServices/accounts/deployments@2024-10-01' = {
  parent: account
  name: deploymentName
  sku: {
    name: deploymentSku
    capacity: capacity
  }
  properties: {
    model: {
      format: 'OpenAI'
      name: modelName
      version: modelVersion
    }
  }
}

@description('Account name.')
output name string = account.name

@description('Account resource id.')
output id string = account.id

@description('Endpoint, e.g. https://NAME.openai.azure.com/.')
output endpoint string = account.properties.endpoint

@description('Deployment name.')
output deploymentName string = embeddingDeployment.name
