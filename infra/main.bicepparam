// Defaults for a small production-like environment: Search basic (1 replica, 1 partition),
// embeddings with the bundled ONNX model (no Azure OpenAI), Flex Consumption with 2 GB instances.
// azd fills the environment variables; with `az deployment group create` export them or edit here.
using 'main.bicep'

param environmentName = readEnvironmentVariable('AZURE_ENV_NAME', 'psim')
param principalId = readEnvironmentVariable('AZURE_PRINCIPAL_ID', '')
param principalType = readEnvironmentVariable('AZURE_PRINCIPAL_TYPE', 'User')

param searchSku = 'basic'
param searchReplicaCount = 1
param searchPartitionCount = 1
param searchSemanticRanker = 'disabled'
param searchIndexName = 'products'
param searchAnalyzer = 'en.lucene'

param ingestionMode = 'Upsert'

param enableAzureOpenAI = bool(readEnvironmentVariable('PSIM_ENABLE_AZURE_OPENAI', 'false'))
param openAiEmbeddingModel = 'text-embedding-3-small'
param openAiEmbeddingDeploymentName = 'text-embedding-3-small'
param openAiEmbeddingDimensions = 1536

param functionInstanceMemoryMB = 2048
param functionMaximumInstanceCount = 40
