// Event Grid system topic on the storage account. Storage publishes BlobCreated events to it; the
// subscription that forwards catalog uploads to the function is in catalog-events.bicep, because it
// needs the blobs_extension system key, which exists only after the function code is deployed.

@description('Azure region (the storage account\'s).')
param location string

@description('Tags applied to every resource.')
param tags object

@description('System topic name.')
param name string

@description('Storage account that publishes the events.')
param storageAccountName string

resource storage 'Microsoft.Storage/storageAccounts@2024-01-01' existing = {
  name: storageAccountName
}

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: name
  location: location
  tags: tags
  properties: {
    source: storage.id
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

@description('System topic name.')
output name string = systemTopic.name
