// Event Grid subscription: BlobCreated events for the catalogs container go to the blob extension
// webhook of the function app, which runs the EventGrid-source blob trigger.
//
// The webhook needs the function app's blobs_extension system key, which the Functions host creates
// only once code with a blob trigger is deployed. So this module is deployed after the code
// (infra/hooks/postdeploy.sh reads the key with `az functionapp keys list` and deploys this file);
// main.bicep also deploys it when its blobsExtensionKey parameter is set.
// Events that still fail after 30 attempts or 24 hours are dead-lettered to a blob container.

@description('Event Grid system topic on the storage account.')
param systemTopicName string

@description('Function app name.')
param functionAppName string

@description('Name of the blob-triggered function (the webhook addresses it as Host.Functions.NAME).')
param functionName string

@description('Container whose new blobs are ingested.')
param containerName string

@description('Storage account of the dead-letter container.')
param storageAccountName string

@description('Container that keeps events Event Grid could not deliver after all retries.')
param deadLetterContainerName string = 'catalog-deadletter'

@description('The function app\'s blobs_extension system key.')
@secure()
param blobsExtensionKey string

@description('Event subscription name.')
param subscriptionName string = 'catalog-blob-created'

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' existing = {
  name: systemTopicName
}

resource storage 'Microsoft.Storage/storageAccounts@2024-01-01' existing = {
  name: storageAccountName
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource subscription 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = {
  parent: systemTopic
  name: subscriptionName
  properties: {
    destination: {
      endpointType: 'WebHook'
      properties: {
        endpointUrl: 'https://${functionApp.properties.defaultHostName}/runtime/webhooks/blobs?functionName=Host.Functions.${functionName}&code=${blobsExtensionKey}'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    eventDeliverySchema: 'EventGridSchema'
    filter: {
      includedEventTypes: [
        'Microsoft.Storage.BlobCreated'
      ]
      subjectBeginsWith: '/blobServices/default/containers/${containerName}/'
    }
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
    // Shared keys are off, so Event Grid writes undeliverable events with the system topic's own identity
    // (event-grid.bicep gives it Storage Blob Data Contributor on this container).
    deadLetterWithResourceIdentity: {
      identity: {
        type: 'SystemAssigned'
      }
      deadLetterDestination: {
        endpointType: 'StorageBlob'
        properties: {
          resourceId: storage.id
          blobContainerName: deadLetterContainerName
        }
      }
    }
  }
}

@description('Event subscription name.')
output name string = subscription.name
