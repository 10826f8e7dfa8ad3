// Least-privilege data-plane roles for the function app's managed identity, each scoped to the one
// resource it is for, plus optional roles for the deploying developer (or pipeline). Every assignment
// name is a deterministic guid() of scope, principal and role, so re-deployments are idempotent.

@description('Principal (object) id of the function app identity.')
param principalId string

@description('Storage account the app and its host use.')
param storageAccountName string

@description('Blob container the app reads embedding models from (psim train output).')
param modelsContainerName string

@description('Azure AI Search service.')
param searchServiceName string

@description('Application Insights component.')
param applicationInsightsName string

@description('Azure OpenAI account; empty when Azure OpenAI is not deployed.')
param openAiAccountName string

@description('Deploying user or service principal; empty for none.')
param developerPrincipalId string

@description('Type of developerPrincipalId; empty lets Azure resolve it.')
@allowed([
  ''
  'User'
  'ServicePrincipal'
  'Group'
])
param developerPrincipalType string

@description('Roles for developerPrincipalId (names from the roles variable below).')
param developerRoles string[]

// Built-in role definition ids (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles).
var roles = {
  StorageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  StorageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  StorageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
  StorageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  StorageQueueDataReader: '19e7f393-937e-4f77-808e-94535e297925'
  StorageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  StorageTableDataReader: '76199698-9eea-4c19-bc75-cec21354c6b6'
  SearchIndexDataContributor: '8ebe5a00-799e-43f5-93ac-243d3dce84a7'
  SearchIndexDataReader: '1407120a-92aa-4202-b7e9-c0e197c71c8f'
  SearchServiceContributor: '7ca78c08-252a-4471-8644-bb5ff32d4ba0'
  CognitiveServicesOpenAIUser: '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd'
  MonitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  MonitoringReader: '43d0d8ad-25c7-4714-9337-8ba259a9fe05'
}

resource storage 'Microsoft.Storage/storageAccounts@2024-01-01' existing = {
  name: storageAccountName
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2024-01-01' existing = {
  parent: storage
  name: 'default'
}

resource modelsContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2024-01-01' existing = {
  parent: blobService
  name: modelsContainerName
}

resource search 'Microsoft.Search/searchServices@2023-11-01' existing = {
  name: searchServiceName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource openAi 'Microsoft.CognitiveServices/accounts@2024-10-01' existing = if (!empty(openAiAccountName)) {
  name: openAiAccountName
}

// Read-only on the models container, where ProductSimilarity__Embeddings__Onnx__ModelBlobUrl points: the app
// downloads its embedding model from there at start-up. Scoped to the container, so it still holds if the
// account-wide Owner below is ever narrowed to the catalog containers.
resource modelsReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(modelsContainer.id, principalId, roles.StorageBlobDataReader)
  scope: modelsContainer
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.StorageBlobDataReader)
  }
}

// Owner, not Contributor: the Functions host documents Storage Blob Data Owner for an identity-based
// AzureWebJobsStorage (it manages blob leases and host containers), and the blob trigger extension
// lists it for its connection as well.
resource storageBlobDataOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, roles.StorageBlobDataOwner)
  scope: storage
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.StorageBlobDataOwner)
  }
}

// Needed for EVERY ingestion, not only failures: the EventGrid-source blob trigger puts each delivered
// BlobCreated event on the host's azure-webjobs-blobtrigger-* queue before the function runs, and moves
// messages that keep failing to webjobs-blobtrigger-poison. Without it no catalog is ingested.
resource storageQueueDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, roles.StorageQueueDataContributor)
  scope: storage
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.StorageQueueDataContributor)
  }
}

// The Functions host writes its diagnostic events to Table storage (AzureWebJobsStorage); without this
// role it logs a stream of 403 AuthorizationPermissionMismatch errors.
resource storageTableDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, roles.StorageTableDataContributor)
  scope: storage
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.StorageTableDataContributor)
  }
}

// Read and write documents in the products index.
resource searchIndexDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(search.id, principalId, roles.SearchIndexDataContributor)
  scope: search
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.SearchIndexDataContributor)
  }
}

// Create or update the index definition on first start (control plane of the index, not the service).
resource searchServiceContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(search.id, principalId, roles.SearchServiceContributor)
  scope: search
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.SearchServiceContributor)
  }
}

// Send telemetry to an Application Insights component that accepts Entra ID authentication only.
resource monitoringMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, principalId, roles.MonitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.MonitoringMetricsPublisher)
  }
}

// Call the embedding deployment (inference only; no management rights).
resource cognitiveServicesOpenAIUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(openAiAccountName)) {
  name: guid(openAi.id, principalId, roles.CognitiveServicesOpenAIUser)
  scope: openAi
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.CognitiveServicesOpenAIUser)
  }
}

// The deploying developer: upload catalogs (`az storage blob upload --auth-mode login`), read the host's
// queues and tables, query the index from `psim` or the portal, and read metrics. Shared keys are off,
// so these roles are what makes local runs and the portal work. Each one can be left out (developerRoles).
var developerStorageRoles = filter(developerRoles, r => startsWith(r, 'Storage'))
var developerSearchRoles = filter(developerRoles, r => startsWith(r, 'Search'))
var developerMonitoringRoles = filter(developerRoles, r => startsWith(r, 'Monitoring'))

resource developerStorage 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in (empty(developerPrincipalId) ? [] : developerStorageRoles): {
    name: guid(storage.id, developerPrincipalId, roles[role])
    scope: storage
    properties: {
      principalId: developerPrincipalId
      principalType: empty(developerPrincipalType) ? null : developerPrincipalType
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles[role])
    }
  }
]

resource developerSearch 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in (empty(developerPrincipalId) ? [] : developerSearchRoles): {
    name: guid(search.id, developerPrincipalId, roles[role])
    scope: search
    properties: {
      principalId: developerPrincipalId
      principalType: empty(developerPrincipalType) ? null : developerPrincipalType
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles[role])
    }
  }
]

resource developerMonitoring 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in (empty(developerPrincipalId) ? [] : developerMonitoringRoles): {
    name: guid(applicationInsights.id, developerPrincipalId, roles[role])
    scope: applicationInsights
    properties: {
      principalId: developerPrincipalId
      principalType: empty(developerPrincipalType) ? null : developerPrincipalType
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles[role])
    }
  }
]
