// Phase two: subscribes the blobs extension webhook of the deployed function app to BlobCreated events of the
// inbox container. The blobs_extension system key only exists once the app has started with the Blob extension,
// so this module runs after `azd deploy` (see the postdeploy hook in azure.yaml and docs/DEPLOY.md).

@description('Name of the function app that hosts IngestBlob.')
param functionAppName string

@description('Name of the Event Grid system topic on the storage account.')
param systemTopicName string

@description('Container whose new blobs trigger IngestBlob.')
param inboxContainerName string

resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource systemTopic 'Microsoft.EventGrid/systemTopics@2022-06-15' existing = {
  name: systemTopicName
}

// host/default has no published resource type, so its keys are read with the generic list function.
var blobsExtensionKey = listKeys('${functionApp.id}/host/default', '2024-04-01').systemKeys.blobs_extension

resource subscription 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2022-06-15' = {
  parent: systemTopic
  name: 'ingest-blob'
  properties: {
    destination: {
      endpointType: 'WebHook'
      properties: {
        endpointUrl: 'https://${functionApp.properties.defaultHostName}/runtime/webhooks/blobs?functionName=Host.Functions.IngestBlob&code=${blobsExtensionKey}'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    eventDeliverySchema: 'EventGridSchema'
    filter: {
      includedEventTypes: [
        'Microsoft.Storage.BlobCreated'
      ]
      subjectBeginsWith: '/blobServices/default/containers/${inboxContainerName}/'
    }
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
  }
}
