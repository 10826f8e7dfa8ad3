// Alert rules on the function app's telemetry and the action group they notify.
//
// Log search alerts on the Application Insights component the app sends to (which is used by this app
// only), each tagged with a hidden-link to the function app so the portal lists it on the app:
//   - failed ingestions: a run that ends in the 'failed' status (the app logs "Catalog {Blob} failed to
//     ingest", event 13 of BlobCatalogIngestor), an IngestCatalog invocation that fails, or a trigger
//     message moved to the webjobs-blobtrigger-poison queue (the poison path);
//   - p95 latency of the HTTP API over a threshold;
//   - HTTP 5xx responses over a threshold.

@description('Azure region of the alert rules.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Action group name.')
param actionGroupName string

@description('E-mail address notified; empty for none.')
param alertEmail string

@description('Application Insights component the function app sends telemetry to.')
param applicationInsightsName string

@description('Function app the alerts are about.')
param functionAppName string

@description('Name of the blob-triggered ingestion function (every other function is HTTP).')
param catalogFunctionName string

@description('p95 HTTP latency threshold in milliseconds.')
@minValue(1)
param queryLatencyP95ThresholdMs int

@description('Number of HTTP 5xx responses in the window above which to alert.')
@minValue(0)
param http5xxThreshold int

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: actionGroupName
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'psim-alerts'
    enabled: true
    emailReceivers: empty(alertEmail)
      ? []
      : [
          {
            name: 'operator'
            emailAddress: alertEmail
            useCommonAlertSchema: true
          }
        ]
  }
}

// The portal shows a resource's alerts through this tag convention.
var alertTags = union(tags, {
  'hidden-link:${functionApp.id}': 'Resource'
})

var rules = [
  {
    key: 'failed-ingestion'
    displayName: 'Catalog ingestion failed'
    description: 'A catalog ingestion of ${functionAppName} ended in the failed status, its function invocation failed, or its trigger message went to the poison queue. See the catalog-status and catalog-errors containers.'
    severity: 1
    windowSize: 'PT5M'
    query: join(
      [
        'union isfuzzy=true'
        '  (traces | where message contains "failed to ingest" or message contains "webjobs-blobtrigger-poison"),'
        '  (exceptions | where outerMessage contains "failed to ingest" or tostring(customDimensions) contains "failed to ingest"),'
        '  (requests | where name == "${catalogFunctionName}" and success == false)'
      ],
      '\n'
    )
    timeAggregation: 'Count'
    metricMeasureColumn: null
    threshold: 0
  }
  {
    key: 'query-latency-p95'
    displayName: 'HTTP API p95 latency over ${queryLatencyP95ThresholdMs} ms'
    description: 'The 95th percentile duration of ${functionAppName} HTTP requests over 15 minutes is above ${queryLatencyP95ThresholdMs} ms.'
    severity: 2
    windowSize: 'PT15M'
    query: 'requests | where name != "${catalogFunctionName}" | summarize P95DurationMs = percentile(duration, 95)'
    timeAggregation: 'Maximum'
    metricMeasureColumn: 'P95DurationMs'
    threshold: queryLatencyP95ThresholdMs
  }
  {
    key: 'http-5xx'
    displayName: 'HTTP 5xx responses'
    description: 'More than ${http5xxThreshold} requests to ${functionAppName} failed with a 5xx status in 15 minutes.'
    severity: 1
    windowSize: 'PT15M'
    query: 'requests | where name != "${catalogFunctionName}" and toint(resultCode) >= 500'
    timeAggregation: 'Count'
    metricMeasureColumn: null
    threshold: http5xxThreshold
  }
]

resource alertRules 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [
  for rule in rules: {
    name: '${rule.key}-${functionAppName}'
    location: location
    tags: alertTags
    kind: 'LogAlert'
    properties: {
      displayName: rule.displayName
      description: rule.description
      severity: rule.severity
      enabled: true
      scopes: [
        applicationInsights.id
      ]
      evaluationFrequency: 'PT5M'
      windowSize: rule.windowSize
      criteria: {
        allOf: [
          {
            query: rule.query
            timeAggregation: rule.timeAggregation
            metricMeasureColumn: rule.metricMeasureColumn
            operator: 'GreaterThan'
            threshold: rule.threshold
            failingPeriods: {
              numberOfEvaluationPeriods: 1
              minFailingPeriodsToAlert: 1
            }
          }
        ]
      }
      autoMitigate: true
      actions: {
        actionGroups: [
          actionGroup.id
        ]
      }
    }
  }
]

@description('Action group resource id.')
output actionGroupId string = actionGroup.id
