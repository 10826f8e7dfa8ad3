using System.Text;
using ProductSimilarity.Core.Catalog;
using static ProductSimilarity.Core.Tests.Catalog.CatalogTestData;

namespace ProductSimilarity.Core.Tests.Catalog;

public sealed class CatalogReaderPlatformTests
{
    private static Task<List<CatalogRow>> ReadFileAsync(string name, CatalogReadOptions? options = null) =>
        ReadAsync(File.ReadAllBytes(TestDataPath(name)), name, options ?? CatalogReadOptions.Default);

    [Fact]
    public async Task ReadAsync_ShopifyExport_OneGroupPerHandleWithEveryVariantsPriceAndStock()
    {
        var rows = await ReadFileAsync("shopify-products-export.csv");

        var products = rows.Products();
        Assert.Equal(["TEE-BLK-S", "TEE-BLK-M", "TEE-BLK-L", "BTL-SAGE", "BTL-SAND", "BTL-SLATE"], products.Select(p => p.Id));
        Assert.Equal(["classic-tee", "trail-bottle"], products.Select(p => p.GroupId).Distinct());
        Assert.All(products.Take(3), p => Assert.Equal("Classic Cotton Tee", p.Title));
        Assert.All(products.Take(3), p => Assert.Equal("Northwind", p.Brand));
        Assert.All(products.Take(3), p => Assert.Contains("organic cotton", p.Description, StringComparison.Ordinal));
        Assert.Equal([19.00m, 19.00m, 21.00m, 1299.00m, 1299.00m, 1349.00m], products.Select(p => p.Price));
        Assert.Equal([true, false, true, true, true, true], products.Select(p => p.InStock)); // BTL-SAND: 0 on hand, policy 'continue'
        Assert.Equal(["12", "0", "3", "5", "0", "7"], products.Select(p => p.Attributes["stock"]));
        Assert.Equal(["S", "M", "L"], products.Take(3).Select(p => p.Attributes["Size"]));
        Assert.All(products.Take(3), p => Assert.Equal("Black", p.Attributes["Color"]));
        Assert.Equal("Apparel & Accessories > Clothing > Shirts & Tops", products[0].Category);
        Assert.Equal("https://cdn.example.com/tee-front.jpg", products[2].ImageUrl);
        Assert.Equal("https://cdn.example.com/bottle-sand.jpg", products[4].ImageUrl);
        Assert.Equal(["04006381333931", "00012345678905", null], products.Take(3).Select(p => p.Gtin));
    }

    [Fact]
    public async Task ReadAsync_ShopifyInvalidBarcode_KeepsTheRowAndWarnsNamingLineAndField()
    {
        var rows = await ReadFileAsync("shopify-products-export.csv");

        var row = rows.Single(r => r.Product?.Id == "TEE-BLK-L");
        var warning = Assert.Single(row.Warnings);
        Assert.True(warning.IsWarning);
        Assert.Equal((4L, "gtin", "TEE-BLK-L"), (warning.Line, warning.Field, warning.Id));
        Assert.Contains("check digit", warning.Reason, StringComparison.Ordinal);
        Assert.Empty(rows.Errors());
    }

    [Fact]
    public async Task ReadAsync_ShopifyDraftsAndArchived_SkippedByDefaultKeptWhenAsked()
    {
        var skipped = await ReadFileAsync("shopify-products-export.csv");
        var kept = await ReadFileAsync("shopify-products-export.csv", new CatalogReadOptions { IncludeDrafts = true });

        Assert.DoesNotContain(skipped.Products(), p => p.GroupId is "draft-lamp" or "old-mug");
        Assert.Equal(["LAMP-1", "LAMP-2", "MUG-OLD"], kept.Products().Where(p => p.GroupId is "draft-lamp" or "old-mug").Select(p => p.Id));
        Assert.Equal("Desk Lamp (coming soon)", kept.Products().Single(p => p.Id == "LAMP-2").Title);
    }

    [Fact]
    public async Task ReadAsync_WooCommerceExport_VariationsGroupedByParentWithCategoryPathAndAttributes()
    {
        var rows = await ReadFileAsync("woocommerce-products.csv");

        var products = rows.Products();
        Assert.Equal(["HOODIE-BLUE-M", "HOODIE-BLUE-L", "HOODIE-GREY-M", "BEANIE"], products.Select(p => p.Id));
        Assert.Equal(["HOODIE", "HOODIE", "HOODIE", null], products.Select(p => p.GroupId));
        Assert.Equal(["Clothing > Hoodies", "Clothing > Hoodies", "Clothing > Hoodies", "Accessories > Hats"], products.Select(p => p.Category));
        Assert.Equal([45m, 39.5m, 45m, 18m], products.Select(p => p.Price));
        Assert.Equal([true, false, true, true], products.Select(p => p.InStock));
        Assert.Equal("Contoso", products[0].Brand);
        Assert.Contains("Brushed fleece", products[0].Description, StringComparison.Ordinal);
        Assert.Equal(("Blue", "L"), (products[1].Attributes["Color"], products[1].Attributes["Size"]));
        Assert.Equal("Merino", products[3].Attributes["Material"]);
        Assert.Equal("04006381333931", products[0].Gtin);
        var warning = Assert.Single(rows.SelectMany(r => r.Warnings));
        Assert.Equal((5L, "gtin"), (warning.Line, warning.Field));
    }

    [Fact]
    public async Task ReadAsync_MerchantCenterTsv_SplitsPriceAndCurrencyAndMapsAvailability()
    {
        var rows = await ReadFileAsync("gmc-feed.tsv");

        var products = rows.Products();
        Assert.Equal(["GMC-1", "GMC-2", "GMC-3"], products.Select(p => p.Id));
        Assert.Equal("Trail Shoe \"Ridge\" Men", products[0].Title);
        Assert.Equal([89.00m, 89.00m, 49.95m], products.Select(p => p.Price));
        Assert.Equal(["USD", "USD", "EUR"], products.Select(p => p.Currency));
        Assert.Equal([true, false, false], products.Select(p => p.InStock));
        Assert.Equal(["RDG", "RDG", null], products.Select(p => p.GroupId));
        Assert.Equal(["Shoes > Trail", "Shoes > Trail", "Sporting Goods > Camping"], products.Select(p => p.Category));
        Assert.Equal(["RDG100M", "RDG100W", null], products.Select(p => p.Mpn));
        Assert.Equal(["00012345678905", null, "01234567890128"], products.Select(p => p.Gtin));
        Assert.Equal(("blue", "42", "new"), (products[0].Attributes["color"], products[0].Attributes["size"], products[0].Attributes["condition"]));
    }

    [Fact]
    public async Task ReadAsync_MerchantCenterXmlFeedOfThousandsOfItems_StreamsEveryItem()
    {
        const int items = 2_500;
        var xml = new StringBuilder();
        xml.Append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" xmlns:g=\"http://base.google.com/ns/1.0\">\n<channel>\n<title>Shop</title>\n");
        for (var i = 0; i < items; i++)
        {
            xml.Append("<item>\n")
                .Append("  <g:id>X").Append(i).Append("</g:id>\n")
                .Append("  <title><![CDATA[Tent <Basecamp> ").Append(i).Append("]]></title>\n")
                .Append("  <description>Two-person tent &amp; footprint.</description>\n")
                .Append("  <link>https://shop.example.com/p/").Append(i).Append("</link>\n")
                .Append("  <g:price>").Append(100 + (i % 50)).Append(".00 EUR</g:price>\n")
                .Append("  <g:availability>").Append(i % 2 == 0 ? "in stock" : "out of stock").Append("</g:availability>\n")
                .Append("  <g:brand>Summit</g:brand>\n  <g:gtin>4006381333931</g:gtin>\n")
                .Append("  <g:item_group_id>TENT-").Append(i / 3).Append("</g:item_group_id>\n")
                .Append("  <g:shipping><g:country>DE</g:country><g:price>4.95 EUR</g:price></g:shipping>\n")
                .Append("</item>\n");
        }

        xml.Append("</channel>\n</rss>\n");
        var rows = await ReadAsync(Encoding.UTF8.GetBytes(xml.ToString()), "feed.xml");

        var products = rows.Products();
        Assert.Equal(items, products.Count);
        Assert.Empty(rows.Errors());
        Assert.Equal("Tent <Basecamp> 7", products[7].Title);
        Assert.Equal((107m, "EUR", false, "TENT-2"), (products[7].Price!.Value, products[7].Currency, products[7].InStock!.Value, products[7].GroupId));
        Assert.Equal("Two-person tent & footprint.", products[7].Description);
        Assert.Equal("DE 4.95 EUR", products[7].Attributes["shipping"]);
        Assert.Equal(17, rows[1].Line); // four lines of channel, then twelve per item
    }

    [Fact]
    public async Task ReadAsync_AtomFeedWithBadItemAndTruncatedXml_KeepsGoodItemsAndReportsLines()
    {
        const string atom = """
            <?xml version="1.0"?>
            <feed xmlns="http://www.w3.org/2005/Atom" xmlns:g="http://base.google.com/ns/1.0">
              <entry>
                <g:id>A1</g:id>
                <title>Headlamp</title>
                <link href="https://shop.example.com/a1"/>
                <g:price>29.99 USD</g:price>
              </entry>
              <entry>
                <g:id>A2</g:id>
                <title>Lantern</title>
                <g:price>cheap</g:price>
              </entry>
              <entry>
                <g:id>A3</g:id>
                <title>Stove
            """;

        var rows = await ReadAsync(Encoding.UTF8.GetBytes(atom), "feed.xml");

        Assert.Equal(["A1"], rows.Ids());
        Assert.Equal("https://shop.example.com/a1", rows.Products()[0].Attributes["link"]);
        var errors = rows.Errors();
        Assert.Equal(2, errors.Count);
        Assert.Equal((9L, "price", "A2"), (errors[0].Line, errors[0].Field, errors[0].Id));
        Assert.Contains("malformed", errors[1].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_GenericWithColumnMap_MapsNamedColumnsAndKeepsTheRestAsAttributes()
    {
        const string csv = "SKU,Product Name,Manufacturer,Cost,Colour\nA-1,Desk Chair,Acme,\"1.299,00\",red\n";
        var options = new CatalogReadOptions
        {
            Columns = CatalogReadOptions.ParseColumnMap("id=SKU,title=\"Product Name\",brand=Manufacturer,price=Cost"),
        };

        var rows = await ReadAsync(Encoding.UTF8.GetBytes(csv), "export.csv", options);

        var product = Assert.Single(rows.Products());
        Assert.Equal(("A-1", "Desk Chair", "Acme", 1299m), (product.Id, product.Title, product.Brand, product.Price!.Value));
        Assert.Equal("red", product.Attributes["Colour"]);
    }

    [Fact]
    public async Task ReadAsync_ForcedPlatformWithoutItsColumns_ThrowsNamingThem()
    {
        var ex = await Assert.ThrowsAsync<CatalogFormatException>(() =>
            ReadAsync(Encoding.UTF8.GetBytes("id,title\n1,a\n"), "c.csv", new CatalogReadOptions { Platform = CatalogPlatform.Shopify }));

        Assert.Contains("Shopify", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'handle'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseColumnMap_UnknownFieldOrMissingEquals_Throws()
    {
        Assert.Throws<ArgumentException>(() => CatalogReadOptions.ParseColumnMap("colour=Farbe"));
        Assert.Throws<ArgumentException>(() => CatalogReadOptions.ParseColumnMap("id"));
    }
}
