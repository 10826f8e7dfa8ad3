using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("ProductSimilarity.Functions.Tests")]
[assembly: InternalsVisibleTo("ProductSimilarity.Api.Tests")]
