using Azure.Search.Documents.Indexes.Models;

namespace ProductSimilarity.Search.AzureAISearch;

/// <summary>The index schema that <see cref="AzureAISearchProductIndex"/> creates and reads: field names and the index definition.</summary>
/// <remarks>Stateless; thread-safe.</remarks>
internal static class AzureAISearchSchema
{
    public const string Id = "id";
    public const string Title = "title";
    public const string Description = "description";
    public const string Brand = "brand";
    public const string Category = "category";
    public const string GroupId = "groupId";
    public const string Price = "price";
    public const string Currency = "currency";
    public const string InStock = "inStock";
    public const string Source = "source";
    public const string ImageUrl = "imageUrl";
    public const string Gtin = "gtin";
    public const string Mpn = "mpn";
    public const string Attributes = "attributes";
    public const string ContentHash = "contentHash";
    public const string Vector = "vector";

    // Product codes in normal form and their near-match keys (Core ProductCodes), keyword-analysed: one code, one token.
    public const string Codes = "codes";
    public const string CodeBases = "codeBases";

    /// <summary>The scoring profile keyword queries use: the codes fields weigh more than the text fields.</summary>
    public const string CodesScoringProfile = "codes-boost";

    /// <summary>Text weight of an exact code match (the text fields weigh 1).</summary>
    public const double CodeWeight = 2.0;

    /// <summary>Text weight of a near code match; an exact code is its own near-match key, so it scores in both.</summary>
    public const double CodeBaseWeight = 1.0;

    /// <summary>
    /// The custom analyser for Chinese and mixed catalogs (<c>ProductSimilarity:Index:AzureAISearch:Analyzer =
    /// psim-cjk-bigram</c>): the standard tokenizer, full-width folding, lower case and overlapping CJK bigrams, the
    /// analysis the embedded index uses for Han text, which measured best on samples/zh-eval.
    /// </summary>
    public const string CjkBigramAnalyzer = "psim-cjk-bigram";

    // Filters on Edm.String are case-sensitive and API 2023-11-01 (the SDK's version) has no normalizers, while the
    // port promises case-insensitive category and brand filters. These hidden fields hold the lower-cased values.
    public const string CategoryKey = "categoryKey";
    public const string BrandKey = "brandKey";

    // The filterable form of the stored attributes (one ProductFilter.AttributeTerms term per column, "color=black"), for
    // attribute filters: attributeKeys/any(t: t eq 'color=black'). Hidden: the attributes field holds the values as read.
    public const string AttributeKeys = "attributeKeys";

    public const string HnswConfigurationName = "hnsw-cosine";
    public const string VectorProfileName = "vector-hnsw-cosine";

    /// <summary>Every retrievable field except the vector: what a query result needs.</summary>
    public static readonly IReadOnlyList<string> ResultFields =
    [
        Id, Title, Description, Brand, Category, GroupId, Price, Currency, InStock, Source, ImageUrl, Gtin, Mpn, Attributes, ContentHash,
    ];

    /// <summary>Builds the index definition for the given analyzer and vector dimensions.</summary>
    public static SearchIndex Build(string indexName, string analyzer, int dimensions)
    {
        var analyzerName = new LexicalAnalyzerName(analyzer);
        var index = new SearchIndex(indexName)
        {
            Fields =
            {
                // The key is sortable and filterable so GetAllIdsAsync can page with "id gt 'last'" past the 100,000 skip limit.
                new SimpleField(Id, SearchFieldDataType.String) { IsKey = true, IsFilterable = true, IsSortable = true },
                new SearchableField(Title) { AnalyzerName = analyzerName },
                new SearchableField(Description) { AnalyzerName = analyzerName },
                new SearchableField(Brand) { AnalyzerName = analyzerName, IsFilterable = true, IsFacetable = true },
                new SimpleField(BrandKey, SearchFieldDataType.String) { IsFilterable = true, IsHidden = true },
                new SimpleField(Category, SearchFieldDataType.String) { IsFilterable = true, IsFacetable = true },
                new SimpleField(CategoryKey, SearchFieldDataType.String) { IsFilterable = true, IsHidden = true },
                new SimpleField(GroupId, SearchFieldDataType.String) { IsFilterable = true, IsFacetable = true },
                new SimpleField(Price, SearchFieldDataType.Double) { IsFilterable = true, IsSortable = true },
                new SimpleField(Currency, SearchFieldDataType.String),
                new SimpleField(InStock, SearchFieldDataType.Boolean) { IsFilterable = true },
                new SimpleField(Source, SearchFieldDataType.String) { IsFilterable = true },
                new SimpleField(ImageUrl, SearchFieldDataType.String),
                new SimpleField(Gtin, SearchFieldDataType.String) { IsFilterable = true },
                new SimpleField(Mpn, SearchFieldDataType.String) { IsFilterable = true },
                new SimpleField(Attributes, SearchFieldDataType.String),
                new SimpleField(AttributeKeys, SearchFieldDataType.Collection(SearchFieldDataType.String)) { IsFilterable = true, IsHidden = true },
                new SimpleField(ContentHash, SearchFieldDataType.String) { IsFilterable = true },

                new SearchableField(Codes, collection: true) { AnalyzerName = LexicalAnalyzerName.Keyword, IsHidden = true },
                new SearchableField(CodeBases, collection: true) { AnalyzerName = LexicalAnalyzerName.Keyword, IsHidden = true },

                // Retrievable, so item-to-item similarity can fetch a product's stored vector.
                new VectorSearchField(Vector, dimensions, VectorProfileName) { IsHidden = false },
            },
            ScoringProfiles =
            {
                new ScoringProfile(CodesScoringProfile)
                {
                    TextWeights = new TextWeights(new Dictionary<string, double> { [Codes] = CodeWeight, [CodeBases] = CodeBaseWeight }),
                },
            },
            VectorSearch = new VectorSearch
            {
                Algorithms =
                {
                    new HnswAlgorithmConfiguration(HnswConfigurationName)
                    {
                        Parameters = new HnswParameters { Metric = VectorSearchAlgorithmMetric.Cosine },
                    },
                },
                Profiles = { new VectorSearchProfile(VectorProfileName, HnswConfigurationName) },
            },
        };
        if (string.Equals(analyzer, CjkBigramAnalyzer, StringComparison.Ordinal))
        {
            index.Analyzers.Add(new CustomAnalyzer(CjkBigramAnalyzer, LexicalTokenizerName.Standard)
            {
                TokenFilters = { TokenFilterName.CjkWidth, TokenFilterName.Lowercase, TokenFilterName.CjkBigram },
            });
        }

        return index;
    }

    /// <summary>The dimensions of the vector field of an index definition, or null when it has none.</summary>
    public static int? ReadDimensions(SearchIndex index)
        => index.Fields.FirstOrDefault(f => string.Equals(f.Name, Vector, StringComparison.Ordinal))?.VectorSearchDimensions;
}
