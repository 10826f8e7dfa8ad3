using System.Text.Json;
using System.Text.Json.Nodes;
using ProductSimilarity.Core.Indexing;
using ProductSimilarity.Search.AzureAISearch;
using ProductSimilarity.Search.Local;
using ProductSimilarity.Search.Tests.Local;
using static ProductSimilarity.Search.Tests.Local.LocalIndexTestData;

namespace ProductSimilarity.Search.Tests.Filters;

/// <summary>
/// One table of filter cases, run through every translation of <see cref="ProductQuery.Admits"/>: the Core predicate
/// itself, the embedded index's Lucene filter (keyword list) and vector-scan predicate (vector list), and the Azure AI
/// Search OData filter evaluated over the documents the adapter would store. All must select the same products.
/// </summary>
public sealed class FilterTranslationTests
{
    // Every title holds "item", so the keyword side matches every product and only the filter decides.
    private static readonly IReadOnlyList<IndexedProduct> PlainProducts =
    [
        P("p1", "item one", V(1, 0, 0), brand: "Acme", category: "Audio", price: 10m, inStock: true, source: "shop-a", groupId: "g1"),
        P("p2", "item two", V(0.9f, 0.1f, 0), brand: "ACME", category: "AUDIO", price: 20m, inStock: false, source: "shop-b", groupId: "g1"),
        P("p3", "item three", V(0.8f, 0.2f, 0), brand: "acme", category: "audio", price: 19.99m, inStock: null, source: null),
        P("p4", "item four", V(0.5f, 0.5f, 0), brand: "O'Neil", category: "Écouteurs", price: null, inStock: true, source: "shop-a", groupId: "g2"),
        P("p5", "item five", V(0, 1, 0), brand: null, category: null, price: 5m, inStock: true, source: "shop-b"),
        P("p6", "item six", V(0, 0.5f, 0.5f), brand: "Bose", category: "Audio accessories", price: 20.01m, inStock: false, source: "Shop-A"),
    ];

    // Catalog columns per product (set on the products above by WithAttributes).
    private static readonly Dictionary<string, Dictionary<string, string>> Columns = new()
    {
        ["p1"] = new() { ["color"] = "Black", ["size"] = "M" },
        ["p2"] = new() { ["Color"] = " black ", ["material"] = "O'Brien wool" },
        ["p3"] = new() { ["color"] = "Blue", ["size"] = "M" },
        ["p4"] = new() { ["color"] = "黑色", ["size"] = new string('x', 300) },
        ["p5"] = new() { ["colour"] = "black" },
    };

    private static readonly IReadOnlyList<IndexedProduct> Products = [.. PlainProducts.Select(WithAttributes)];

    private static readonly Dictionary<string, (ProductQuery Query, string[] Expected)> Cases = new()
    {
        ["no filter"] = (Q(new ProductFilter()), ["p1", "p2", "p3", "p4", "p5", "p6"]),
        ["category, any case"] = (Q(new ProductFilter { Category = "aUdIo" }), ["p1", "p2", "p3"]),
        ["category, non-ASCII case"] = (Q(new ProductFilter { Category = "ÉCOUTEURS" }), ["p4"]),
        ["category is exact, not a prefix"] = (Q(new ProductFilter { Category = "Audio acc" }), []),
        ["brand, any case"] = (Q(new ProductFilter { Brand = "acme" }), ["p1", "p2", "p3"]),
        ["brand with a quote"] = (Q(new ProductFilter { Brand = "o'neil" }), ["p4"]),
        ["min price, inclusive"] = (Q(new ProductFilter { MinPrice = 20m }), ["p2", "p6"]),
        ["max price, inclusive; no price fails"] = (Q(new ProductFilter { MaxPrice = 19.99m }), ["p1", "p3", "p5"]),
        ["price range"] = (Q(new ProductFilter { MinPrice = 10m, MaxPrice = 20m }), ["p1", "p2", "p3"]),
        ["in stock"] = (Q(new ProductFilter { InStock = true }), ["p1", "p4", "p5"]),
        ["out of stock; unknown fails"] = (Q(new ProductFilter { InStock = false }), ["p2", "p6"]),
        ["source, exact case"] = (Q(new ProductFilter { Source = "shop-a" }), ["p1", "p4"]),
        ["exclude source; no source passes"] = (Q(new ProductFilter { ExcludeSource = "shop-a" }), ["p2", "p3", "p5", "p6"]),
        ["combined"] = (Q(new ProductFilter { Category = "AUDIO", Brand = "Acme", InStock = false, MaxPrice = 25m }), ["p2"]),
        ["exclude ids and groups"] = (Q(new ProductFilter(), excludeIds: ["p5"], excludeGroups: ["g1"]), ["p3", "p4", "p6"]),
        ["filter and exclusions"] = (Q(new ProductFilter { InStock = true }, excludeGroups: ["g2"]), ["p1", "p5"]),
        ["attribute, any case, trimmed"] = (Q(new ProductFilter { Attributes = A(("COLOR", "black")) }), ["p1", "p2"]),
        ["attribute, exact value"] = (Q(new ProductFilter { Attributes = A(("color", "blu")) }), []),
        ["attribute, Chinese value"] = (Q(new ProductFilter { Attributes = A(("color", "黑色")) }), ["p4"]),
        ["attribute with a quote"] = (Q(new ProductFilter { Attributes = A(("material", "o'brien WOOL")) }), ["p2"]),
        ["two attributes"] = (Q(new ProductFilter { Attributes = A(("color", "Blue"), ("size", "m")) }), ["p3"]),
        ["attribute too long to index matches nothing"] = (Q(new ProductFilter { Attributes = A(("size", new string('x', 300))) }), []),
        ["attribute and fields"] = (Q(new ProductFilter { Attributes = A(("size", "M")), InStock = true }), ["p1"]),
    };

    public static TheoryData<string> CaseNames() => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task Filter_EveryTranslation_SelectsTheSameProducts(string name)
    {
        var (query, expected) = Cases[name];

        // The Core predicate: the meaning.
        Assert.Equal(expected, Products.Where(p => query.Admits(p.Product)).Select(p => p.Id));

        // The embedded index: Lucene filter for the keyword list, vector-scan predicate for the vector list.
        using var folder = new TempFolder();
        await using (var index = LocalProductIndex.Open(folder.Path))
        {
            await index.UpsertAsync(Products);
            await index.CommitAsync();
            CandidateLists lists = await index.GetCandidatesAsync(query);
            Assert.Equal(expected, lists.Keyword.Select(c => c.Id).Order(StringComparer.Ordinal));
            Assert.Equal(expected, lists.Vector.Select(c => c.Id).Order(StringComparer.Ordinal));
        }

        // Azure AI Search: the OData filter, evaluated over the documents the adapter stores.
        string? filter = AzureAISearchQuerySyntax.BuildFilter(query.Filter, query.ExcludeIds, query.ExcludeGroupIds);
        var selected = Products
            .Where(p => ODataFilterEvaluator.Matches(filter, JsonSerializer.SerializeToNode(AzureAISearchDocument.From(p))!.AsObject()))
            .Select(p => p.Id);
        Assert.Equal(expected, selected);
    }

    [Fact]
    public void Key_CategoryAndBrand_FoldsWithInvariantLowerCase()
    {
        Assert.Equal("écouteurs", ProductFilter.Key("ÉCOUTEURS"));
        Assert.Equal("acme", ProductFilter.Key("AcMe"));
        Assert.Null(ProductFilter.Key(null));
    }

    private static Dictionary<string, string> A(params (string Name, string Value)[] pairs) => pairs.ToDictionary(p => p.Name, p => p.Value);

    private static IndexedProduct WithAttributes(IndexedProduct p) =>
        Columns.TryGetValue(p.Id, out var columns) ? p with { Product = p.Product with { Attributes = columns } } : p;

    private static ProductQuery Q(ProductFilter filter, string[]? excludeIds = null, string[]? excludeGroups = null) => new()
    {
        Text = "item",
        Vector = V(1, 1, 1),
        Mode = RankingMode.Hybrid,
        Top = 100,
        Filter = filter,
        ExcludeIds = new HashSet<string>(excludeIds ?? [], StringComparer.Ordinal),
        ExcludeGroupIds = new HashSet<string>(excludeGroups ?? [], StringComparer.Ordinal),
    };
}
