// Aims.Evidence serverless pipeline: everything `azd up` provisions.
// Subscription scope so azd can create the resource group; all resources live in modules/resources.bicep.
targetScope = 'subscription'

@minLength(1)
@maxLength(40)
@description('azd environment name; used to name the resource group and derive resource names.')
param environmentName string

@minLength(1)
@description('Primary location for all resources (must offer Flex Consumption, Document Intelligence, Azure OpenAI and AI Search).')
param location string

@description('Optional object id of the deploying user or group: gets data-plane access for local debugging. Leave empty in CI.')
param principalId string = ''

@description('Second phase of `azd up`: wire the Event Grid subscription to the blobs extension webhook (needs the deployed code).')
param deployEventSubscription bool = false

@description('AI Search tier.')
@allowed([
  'basic'
  'standard'
  'standard2'
  'standard3'
])
param searchSku string = 'basic'

@description('AI Search replicas (2+ for read SLA, 3+ for read/write SLA).')
@minValue(1)
@maxValue(12)
param searchReplicaCount int = 1

@description('AI Search partitions (storage and indexing throughput).')
@allowed([
  1
  2
  3
  4
  6
  12
])
param searchPartitionCount int = 1

@description('Semantic ranker plan of AI Search.')
@allowed([
  'disabled'
  'free'
  'standard'
])
param semanticSearch string = 'disabled'

@description('Maximum instances of the Flex Consumption app.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory per Flex Consumption instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Azure OpenAI chat model deployment.')
param chatModelName string = 'gpt-4o-mini'

param chatModelVersion string = '2024-07-18'

@description('Chat deployment capacity in thousands of tokens per minute.')
param chatCapacity int = 30

@description('Azure OpenAI embedding model deployment.')
param embeddingModelName string = 'text-embedding-3-small'

param embeddingModelVersion string = '1'

@description('Embedding deployment capacity in thousands of tokens per minute.')
param embeddingCapacity int = 120

@description('Mapping stage: false keeps the embedded hybrid mapper; true lets the chat deployment judge the candidates (token cost).')
param useLlmMapping bool = false

@description('Embeddings for the mapper and the AI Search vector field: the bundled MiniLM model (384 dims) or the embedding deployment.')
@allowed([
  'local'
  'azure-openai'
])
param embeddingsProvider string = 'local'

@description('Vector length requested from the embedding deployment (text-embedding-3-small: up to 1536); used only with azure-openai embeddings.')
@minValue(1)
@maxValue(3072)
param embeddingDimensions int = 1536

var tags = {
  'azd-env-name': environmentName
  application: 'aims-evidence'
}

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module resources 'modules/resources.bicep' = {
  name: 'aims-resources'
  scope: rg
  params: {
    environmentName: environmentName
    location: location
    tags: tags
    principalId: principalId
    searchSku: searchSku
    searchReplicaCount: searchReplicaCount
    searchPartitionCount: searchPartitionCount
    semanticSearch: semanticSearch
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    chatModelName: chatModelName
    chatModelVersion: chatModelVersion
    chatCapacity: chatCapacity
    embeddingModelName: embeddingModelName
    embeddingModelVersion: embeddingModelVersion
    embeddingCapacity: embeddingCapacity
    useLlmMapping: useLlmMapping
    embeddingsProvider: embeddingsProvider
    embeddingDimensions: embeddingDimensions
  }
}

module eventSubscription 'modules/event-subscription.bicep' = if (deployEventSubscription) {
  name: 'aims-event-subscription'
  scope: rg
  params: {
    functionAppName: resources.outputs.functionAppName
    systemTopicName: resources.outputs.systemTopicName
    inboxContainerName: resources.outputs.inboxContainerName
  }
}

output AZURE_LOCATION string = location
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = resources.outputs.functionAppName
output AZURE_FUNCTION_APP_URL string = resources.outputs.functionAppUrl
output AZURE_STORAGE_ACCOUNT_NAME string = resources.outputs.storageAccountName
output AZURE_STORAGE_BLOB_ENDPOINT string = resources.outputs.blobEndpoint
output AIMS_INBOX_CONTAINER string = resources.outputs.inboxContainerName
output AIMS_DOCUMENT_INTELLIGENCE_ENDPOINT string = resources.outputs.documentIntelligenceEndpoint
output AIMS_SEARCH_ENDPOINT string = resources.outputs.searchEndpoint
output AIMS_OPENAI_ENDPOINT string = resources.outputs.openAIEndpoint
output AIMS_MANAGED_IDENTITY_CLIENT_ID string = resources.outputs.identityClientId
output EVENT_SUBSCRIPTION_DEPLOYED bool = deployEventSubscription
