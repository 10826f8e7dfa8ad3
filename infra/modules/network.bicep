// Private networking (vnetEnabled): a VNet with a subnet delegated to Flex Consumption for the app's
// VNet integration and a subnet for private endpoints; private endpoints for blob, queue and table
// storage, Azure AI Search and (when deployed) Azure OpenAI, each registered in its private DNS zone,
// which is linked to the VNet so the app resolves the services to their private addresses.

@description('Azure region.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Virtual network name.')
param name string

@description('VNet address space.')
param addressPrefix string

@description('Subnet for the private endpoints.')
param privateEndpointSubnetPrefix string

@description('Subnet delegated to Microsoft.App/environments (Flex Consumption VNet integration).')
param appSubnetPrefix string

@description('Storage account (blob, queue and table endpoints).')
param storageAccountName string

@description('Azure AI Search service.')
param searchServiceName string

@description('Azure OpenAI account; empty when it is not deployed.')
param openAiAccountName string

// Zones from environment() where it has the suffix; Search and OpenAI zones by cloud name.
var cloud = environment().name
var searchZone = {
  AzureUSGovernment: 'privatelink.search.azure.us'
  AzureChinaCloud: 'privatelink.search.azure.cn'
}[?cloud] ?? 'privatelink.search.windows.net'
var openAiZone = {
  AzureUSGovernment: 'privatelink.openai.azure.us'
  AzureChinaCloud: 'privatelink.openai.azure.cn'
}[?cloud] ?? 'privatelink.openai.azure.com'

resource storage 'Microsoft.Storage/storageAccounts@2024-01-01' existing = {
  name: storageAccountName
}

resource search 'Microsoft.Search/searchServices@2023-11-01' existing = {
  name: searchServiceName
}

resource openAi 'Microsoft.CognitiveServices/accounts@2024-10-01' existing = if (!empty(openAiAccountName)) {
  name: openAiAccountName
}

var endpoints = concat(
  [
    {
      key: 'blob'
      serviceId: storage.id
      groupId: 'blob'
      zone: 'privatelink.blob.${environment().suffixes.storage}'
    }
    {
      key: 'queue'
      serviceId: storage.id
      groupId: 'queue'
      zone: 'privatelink.queue.${environment().suffixes.storage}'
    }
    {
      key: 'table'
      serviceId: storage.id
      groupId: 'table'
      zone: 'privatelink.table.${environment().suffixes.storage}'
    }
    {
      key: 'search'
      serviceId: search.id
      groupId: 'searchService'
      zone: searchZone
    }
  ],
  empty(openAiAccountName)
    ? []
    : [
        {
          key: 'openai'
          serviceId: openAi.id
          groupId: 'account'
          zone: openAiZone
        }
      ]
)

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        addressPrefix
      ]
    }
    subnets: [
      {
        name: 'private-endpoints'
        properties: {
          addressPrefix: privateEndpointSubnetPrefix
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
      {
        name: 'app'
        properties: {
          addressPrefix: appSubnetPrefix
          delegations: [
            {
              name: 'flex-consumption'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
    ]
  }

  resource privateEndpointSubnet 'subnets' existing = {
    name: 'private-endpoints'
  }

  resource appSubnet 'subnets' existing = {
    name: 'app'
  }
}

resource zones 'Microsoft.Network/privateDnsZones@2024-06-01' = [
  for endpoint in endpoints: {
    name: endpoint.zone
    location: 'global'
    tags: tags
  }
]

resource zoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [
  for (endpoint, i) in endpoints: {
    parent: zones[i]
    name: '${name}-link'
    location: 'global'
    tags: tags
    properties: {
      registrationEnabled: false
      virtualNetwork: {
        id: vnet.id
      }
    }
  }
]

resource privateEndpoints 'Microsoft.Network/privateEndpoints@2024-05-01' = [
  for endpoint in endpoints: {
    name: 'pe-${endpoint.key}-${name}'
    location: location
    tags: tags
    properties: {
      subnet: {
        id: vnet::privateEndpointSubnet.id
      }
      privateLinkServiceConnections: [
        {
          name: endpoint.key
          properties: {
            privateLinkServiceId: endpoint.serviceId
            groupIds: [
              endpoint.groupId
            ]
          }
        }
      ]
    }
  }
]

resource dnsZoneGroups 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = [
  for (endpoint, i) in endpoints: {
    parent: privateEndpoints[i]
    name: 'default'
    properties: {
      privateDnsZoneConfigs: [
        {
          name: endpoint.key
          properties: {
            privateDnsZoneId: zones[i].id
          }
        }
      ]
    }
  }
]

@description('Subnet id for the function app\'s VNet integration.')
output appSubnetId string = vnet::appSubnet.id

@description('Virtual network name.')
output name string = vnet.name
