// Quick-start defaults: Search basic (1 replica, 1 partition), embeddings with the bundled ONNX model
// (no Azure OpenAI), Flex Consumption with 2 GB instances, public endpoints. For production see
// main.prod.bicepparam and docs/deploy.md.
// azd fills the environment variables (AZURE_ENV_NAME, AZURE_LOCATION, AZURE_PRINCIPAL_ID, and every
// value set with `azd env set`); with `az deployment sub create` export them or edit here.
using 'main.bicep'

param environmentName = readEnvironmentVariable('AZURE_ENV_NAME', 'psim')
param location = readEnvironmentVariable('AZURE_LOCATION', 'swedencentral')
param resourceGroupName = readEnvironmentVariable('AZURE_RESOURCE_GROUP', '')
param principalId = readEnvironmentVariable('AZURE_PRINCIPAL_ID', '')

// In .bicepparam mode azd sets AZURE_PRINCIPAL_ID but never AZURE_PRINCIPAL_TYPE, so the type cannot come
// from azd. In a pipeline (GitHub Actions sets GITHUB_ACTIONS, Azure Pipelines sets TF_BUILD) azd runs as a
// service principal or managed identity: say so. Elsewhere leave it empty and let Azure resolve it, which
// works for users and service principals alike; never guess 'User' (ARM rejects a service principal's id
// with type User: UnmatchedPrincipalType). `azd env set AZURE_PRINCIPAL_TYPE ...` overrides both.
var runsInPipeline = !empty(readEnvironmentVariable('GITHUB_ACTIONS', '')) || !empty(readEnvironmentVariable('TF_BUILD', ''))
param principalType = readEnvironmentVariable('AZURE_PRINCIPAL_TYPE', runsInPipeline ? 'ServicePrincipal' : '')

param vnetEnabled = bool(readEnvironmentVariable('PSIM_VNET_ENABLED', 'false'))
param zoneRedundant = false

param searchSku = 'basic'
param searchReplicaCount = 1
param searchPartitionCount = 1
param searchSemanticRanker = 'disabled'
param searchIndexName = 'products'
param searchAnalyzer = 'en.lucene'

param ingestionMode = 'Upsert'

param enableAzureOpenAI = bool(readEnvironmentVariable('PSIM_ENABLE_AZURE_OPENAI', 'false'))
// A psim train --out folder uploaded to the models container (docs/deploy.md); empty: the bundled or packaged model.
param modelBlobFolder = readEnvironmentVariable('PSIM_MODEL_BLOB_FOLDER', '')
param openAiEmbeddingModel = 'text-embedding-3-small'
param openAiEmbeddingDeploymentName = 'text-embedding-3-small'
param openAiEmbeddingDimensions = 1536
param openAiDeploymentSku = 'GlobalStandard'

param functionInstanceMemoryMB = 2048
param functionMaximumInstanceCount = 40
param functionAlwaysReadyHttpInstances = 0
param functionHttpPerInstanceConcurrency = 0

param alertEmail = readEnvironmentVariable('PSIM_ALERT_EMAIL', '')
param queryLatencyP95ThresholdMs = 1000
param http5xxThreshold = 5
