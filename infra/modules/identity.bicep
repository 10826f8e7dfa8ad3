// The user-assigned managed identity the function app runs as; every connection of the app uses it.

@description('Azure region.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Identity name.')
param name string

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

@description('Identity resource id.')
output id string = identity.id

@description('Principal (object) id, for role assignments.')
output principalId string = identity.properties.principalId

@description('Client id, for AZURE_CLIENT_ID and the identity-based connections.')
output clientId string = identity.properties.clientId
