// Event Grid system topic on the storage account. Storage publishes BlobCreated events to it; the
// subscription that forwards catalog uploads to the function is in catalog-events.bicep, because it
// needs the blobs_extension system key, which exists only after the function code is deployed.
//
// The topic has a system-assigned identity with blob write access to the dead-letter container only:
// shared keys are off on the account, so Event Grid dead-letters with that identity
// (deadLetterWithResourceIdentity) and events it could not deliver are kept, never lost.

@description('Azure region (the storage account\'s).')
param location string

@description('Tags applied to every resource.')
param tags object

@description('System topic name.')
param name string

@description('Storage account that publishes the events (and holds the dead-letter container).')
param storageAccountName string

@description('Container that receives undeliverable events.')
param deadLetterContainerName string

@description('Log Analytics workspace for the diagnostic settings.')
param logAnalyticsId string

var storageBlobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'

resource storage 'Microsoft.Storage/storageAccounts@2024-01-01' existing = {
  name: storageAccountName

  resource blobService 'blobServices' existing = {
    name: 'default'

    resource deadLetterContainer 'containers' existing = {
      name: deadLetterContainerName
    }
  }
}

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: name
  location: location
  tags: tags
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    source: storage.id
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

// Write dead-lettered events, scoped to the one container.
resource deadLetterWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::blobService::deadLetterContainer.id, systemTopic.id, storageBlobDataContributor)
  scope: storage::blobService::deadLetterContainer
  properties: {
    principalId: systemTopic.identity.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: systemTopic
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

@description('System topic name.')
output name string = systemTopic.name
