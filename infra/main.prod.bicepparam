// Production profile: private networking, zone redundancy, Search `standard` with 2 replicas (the read SLA; 3 for
// read-write), 4 GB instances, one always-ready HTTP instance against cold starts, 90-day logs, an alert e-mail.
// azd reads infra/<module>.bicepparam (module: main in azure.yaml), so a production pipeline copies this file over
// main.bicepparam before `azd provision`; or deploy it directly:
//   az deployment sub create --location <region> --parameters infra/main.prod.bicepparam
// See the production checklist in docs/deploy.md.
using 'main.bicep'

param environmentName = readEnvironmentVariable('AZURE_ENV_NAME', 'psim-prod')
param location = readEnvironmentVariable('AZURE_LOCATION', 'swedencentral')
param resourceGroupName = readEnvironmentVariable('AZURE_RESOURCE_GROUP', '')
// Production is deployed by a pipeline, not from a laptop: no developer data roles.
param principalId = ''
param developerRoles = []

param vnetEnabled = true
param zoneRedundant = true

param searchSku = 'standard'
param searchReplicaCount = 2
param searchPartitionCount = 1
param searchSemanticRanker = 'disabled'
param searchIndexName = 'products'
param searchAnalyzer = 'en.lucene'

param ingestionMode = 'Upsert'

param enableAzureOpenAI = bool(readEnvironmentVariable('PSIM_ENABLE_AZURE_OPENAI', 'false'))
param openAiDeploymentSku = 'GlobalStandard'

param functionInstanceMemoryMB = 4096
param functionMaximumInstanceCount = 100
param functionAlwaysReadyHttpInstances = 1
param functionHttpPerInstanceConcurrency = 16

param logRetentionInDays = 90
// Required: production alerts must reach someone (set PSIM_ALERT_EMAIL, e.g. with azd env set).
param alertEmail = readEnvironmentVariable('PSIM_ALERT_EMAIL')
param queryLatencyP95ThresholdMs = 800
param http5xxThreshold = 5
