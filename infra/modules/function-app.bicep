// Flex Consumption (FC1) plan and a Linux function app running the .NET 10 isolated worker.
// The app runs as a user-assigned managed identity (the pattern of the official azd Flex
// templates): host storage, the deployment package container, Application Insights and the
// app's own clients all authenticate with that identity. No keys or connection secrets are set.

@description('Azure region.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Flex Consumption plan name.')
param planName string

@description('Function app name.')
param name string

@description('azd service name (the azd-service-name tag azd uses to find the app to deploy).')
param serviceName string

@description('Resource id of the user-assigned identity the app runs as.')
param identityId string

@description('Client id of that identity.')
param identityClientId string

@description('Storage account for host state and the deployment package.')
param storageAccountName string

@description('Blob container that holds the deployment package.')
param deploymentContainerName string

@description('Application Insights component name.')
param applicationInsightsName string

@description('Log Analytics workspace for the diagnostic settings.')
param logAnalyticsId string

@description('Memory per instance in MB (main.bicep refuses 512 with the ONNX model).')
@allowed([512, 2048, 4096])
param instanceMemoryMB int

@description('Upper bound on on-demand instances per function group; the documented Flex Consumption range is 40 to 1000.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int

@description('Always-ready instances for the HTTP function group (0 for none).')
@minValue(0)
param alwaysReadyHttpInstances int

@description('Concurrent HTTP requests per instance; 0 for the platform default.')
@minValue(0)
param httpPerInstanceConcurrency int

@description('Zone-redundant plan (the region must have availability zones).')
param zoneRedundant bool

@description('Subnet delegated to Microsoft.App/environments for VNet integration; empty for none.')
param subnetId string

@description('The app\'s own settings (ProductSimilarity__*, CatalogStorage__*); merged with the host settings.')
param appSettings object

resource storage 'Microsoft.Storage/storageAccounts@2024-01-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
    zoneRedundant: zoneRedundant
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // The HTTP API and the Event Grid webhook are called from the internet (function keys guard them).
    publicNetworkAccess: 'Enabled'
    virtualNetworkSubnetId: empty(subnetId) ? null : subnetId
    siteConfig: {
      minTlsVersion: '1.2'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      // 'http' is the group of all HTTP-triggered functions (https://aka.ms/flexconsumption/alwaysready);
      // triggers.http is left out when 0 so the platform default for the instance size applies.
      scaleAndConcurrency: union(
        {
          instanceMemoryMB: instanceMemoryMB
          maximumInstanceCount: maximumInstanceCount
          alwaysReady: alwaysReadyHttpInstances > 0
            ? [
                {
                  name: 'http'
                  instanceCount: alwaysReadyHttpInstances
                }
              ]
            : []
        },
        httpPerInstanceConcurrency > 0
          ? {
              triggers: {
                http: {
                  perInstanceConcurrency: httpPerInstanceConcurrency
                }
              }
            }
          : {}
      )
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
  }

  resource settings 'config' = {
    name: 'appsettings'
    properties: union(appSettings, {
      // Host storage through the managed identity. The endpoints come from the account itself (not derived
      // from its name), so they carry the right suffix in every cloud.
      AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
      AzureWebJobsStorage__queueServiceUri: storage.properties.primaryEndpoints.queue
      AzureWebJobsStorage__tableServiceUri: storage.properties.primaryEndpoints.table
      AzureWebJobsStorage__credential: 'managedidentity'
      AzureWebJobsStorage__clientId: identityClientId
      // The connection string only locates the component (its instrumentation key is an identifier,
      // not a credential); with DisableLocalAuth the telemetry is accepted only with the Entra token
      // that the authentication string below makes the host request.
      APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
    })
  }

  // Publishing with basic (user name and password) credentials is off; deployments use Entra ID.
  resource scmCredentials 'basicPublishingCredentialsPolicies' = {
    name: 'scm'
    properties: {
      allow: false
    }
  }

  resource ftpCredentials 'basicPublishingCredentialsPolicies' = {
    name: 'ftp'
    properties: {
      allow: false
    }
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: functionApp
  properties: {
    workspaceId: logAnalyticsId
    logs: [
      {
        category: 'FunctionAppLogs'
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

@description('Function app name.')
output name string = functionApp.name

@description('Function app default host name.')
output defaultHostName string = functionApp.properties.defaultHostName

@description('Function app base URL.')
output url string = 'https://${functionApp.properties.defaultHostName}'
