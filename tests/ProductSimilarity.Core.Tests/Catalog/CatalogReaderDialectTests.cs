using System.Globalization;
using System.Text;
using MiniExcelLibs;
using ProductSimilarity.Core.Catalog;
using static ProductSimilarity.Core.Tests.Catalog.CatalogTestData;

namespace ProductSimilarity.Core.Tests.Catalog;

public sealed class CatalogReaderDialectTests
{
    [Fact]
    public async Task ReadAsync_SemicolonFileWithDecimalCommas_DetectsDelimiterAndParsesPrices()
    {
        var rows = await ReadAsync(File.ReadAllBytes(TestDataPath("semicolon-decimal-comma.csv")), "semicolon-decimal-comma.csv");

        var products = rows.Products();
        Assert.Empty(rows.Errors());
        Assert.Equal(["E1", "E2", "E3"], products.Select(p => p.Id));
        Assert.Equal("Wasserkocher 1,7 l", products[1].Title);
        Assert.Equal([34.90m, 1234.56m, 59.00m], products.Select(p => p.Price));
        Assert.Equal(["EUR", "EUR", "EUR"], products.Select(p => p.Currency)); // E3's comes from the € sign
        Assert.Equal("Kaffeemühle \"Classic\"", products[2].Title);
    }

    [Fact]
    public async Task ReadAsync_QuoteInsideUnquotedTitles_TakenLiterallyLikeExcel()
    {
        var rows = await ReadAsync(File.ReadAllBytes(TestDataPath("stray-quotes.csv")), "stray-quotes.csv");

        Assert.Empty(rows.Errors());
        Assert.Equal(["Samsung 55\" QLED TV", "LG 65\" OLED evo", "HDMI cable 2 m, 8K"], rows.Products().Select(p => p.Title));
        Assert.Equal([799m, 1499.00m, 12m], rows.Products().Select(p => p.Price));
    }

    [Theory]
    [InlineData('\t')]
    [InlineData('|')]
    [InlineData(';')]
    public async Task ReadAsync_OtherDelimiters_DetectedFromHeaderAndRows(char delimiter)
    {
        var d = delimiter.ToString();
        var csv = $"id{d}title{d}price\n1{d}\"Mug, blue\"{d}5\n2{d}Plate{d}7\n";

        var rows = await ReadAsync(csv);

        Assert.Equal(["Mug, blue", "Plate"], rows.Products().Select(p => p.Title));
    }

    [Fact]
    public async Task ReadAsync_ExplicitDelimiter_WinsOverDetection()
    {
        // As many commas as semicolons on every line: detection keeps ',', the option says ';'.
        var csv = Encoding.UTF8.GetBytes("id;title;a,b,c\n1;Mug;x,y,z\n");

        var rows = await ReadAsync(csv, "c.csv", new CatalogReadOptions { Delimiter = ';' });

        Assert.Equal("Mug", Assert.Single(rows.Products()).Title);
        await Assert.ThrowsAsync<CatalogFormatException>(() => ReadAsync(csv, "c.csv"));
    }

    [Fact]
    public async Task ReadAsync_BrokenQuoteInSemicolonFile_RejectsOnlyItsRowAndResynchronises()
    {
        var rows = await ReadAsync("id;title;price\n1;Good;1\n2;\"Never closed;2\n3;Fine;3\n4;Also fine;4\n");

        Assert.Equal(["1", "3", "4"], rows.Ids());
        Assert.Equal((3L, "title"), (rows.SingleError().Line, rows.SingleError().Field));
    }

    [Fact]
    public async Task ReadAsync_PriceCultureConfigured_ReadsEveryValueWithIt()
    {
        var options = new CatalogReadOptions { PriceCulture = CultureInfo.GetCultureInfo("de-DE") };

        var rows = await ReadAsync(Encoding.UTF8.GetBytes("id,title,price\n1,a,\"1,234\"\n2,b,1.234\n"), "c.csv", options);

        Assert.Equal([1.234m, 1234m], rows.Products().Select(p => p.Price));
    }

    [Theory]
    [InlineData("1.234,56", "1234.56", null)]
    [InlineData("12,99 €", "12.99", "EUR")]
    [InlineData("$1,299.00", "1299.00", "USD")]
    [InlineData("¥129", "129", "JPY")]
    [InlineData("￥88.5", "88.5", "CNY")]
    [InlineData("15.00 USD", "15.00", "USD")]
    [InlineData("EUR 7,50", "7.50", "EUR")]
    [InlineData("1,234", "1234", null)]
    [InlineData("1.234", "1.234", null)]
    [InlineData("1,5", "1.5", null)]
    [InlineData("1 234,50", "1234.50", null)]
    [InlineData("1'299.90", "1299.90", null)]
    [InlineData("1,000,000", "1000000", null)]
    public void PriceParser_ShopWrittenPrices_ParsedWithCurrency(string text, string expected, string? currency)
    {
        Assert.True(PriceParser.TryParse(text, null, out var price, out var code, out var reason), reason);
        Assert.Equal(decimal.Parse(expected, CultureInfo.InvariantCulture), price);
        Assert.Equal(currency, code);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-5")]
    [InlineData("$")]
    [InlineData("1,23,4")]
    [InlineData("12 apples")]
    public void PriceParser_NotAPrice_Fails(string text) =>
        Assert.False(PriceParser.TryParse(text, null, out _, out _, out _));

    [Fact]
    public async Task ReadAsync_XlsxWorkbook_ReadsNamedSheetAndNamesRowsInErrors()
    {
        var path = Path.Combine(Path.GetTempPath(), $"psim-{Guid.NewGuid():N}.xlsx");
        try
        {
            var sheets = new Dictionary<string, object>
            {
                ["Notes"] = new[] { new Dictionary<string, object> { ["note"] = "ignore me" } },
                ["Products"] = new[]
                {
                    new Dictionary<string, object?> { ["SKU"] = "X1", ["Name"] = "Kettle", ["Price"] = 24.5, ["EAN"] = 4006381333931d },
                    new Dictionary<string, object?> { ["SKU"] = "X2", ["Name"] = "Toaster", ["Price"] = "twelve", ["EAN"] = null },
                    new Dictionary<string, object?> { ["SKU"] = "X3", ["Name"] = "Blender", ["Price"] = "1.299,00 €", ["EAN"] = "123" },
                },
            };
            await MiniExcel.SaveAsAsync(path, sheets);
            var options = new CatalogReadOptions { Sheet = "Products", Columns = CatalogReadOptions.ParseColumnMap("id=SKU") };

            var rows = await ReadAsync(await File.ReadAllBytesAsync(path), "catalog.xlsx", options);

            Assert.Equal(["X1", "X3"], rows.Ids());
            Assert.Equal(("Kettle", 24.5m, "04006381333931"), (rows.Products()[0].Title, rows.Products()[0].Price!.Value, rows.Products()[0].Gtin));
            Assert.Equal((1299.00m, "EUR"), (rows.Products()[1].Price!.Value, rows.Products()[1].Currency));
            var error = rows.SingleError();
            Assert.Equal((3L, "Products", "price"), (error.Line, error.Sheet, error.Field));
            Assert.StartsWith("catalog.xlsx:Products!row 3: field 'price'", error.ToString(), StringComparison.Ordinal);
            var warning = Assert.Single(rows.SelectMany(r => r.Warnings));
            Assert.Equal("Products!row 4", warning.Location);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task ReadAsync_XlsxMissingSheet_ThrowsNamingTheSheets()
    {
        var path = Path.Combine(Path.GetTempPath(), $"psim-{Guid.NewGuid():N}.xlsx");
        try
        {
            await MiniExcel.SaveAsAsync(path, new[] { new Dictionary<string, object> { ["id"] = "1", ["title"] = "a" } });

            var ex = await Assert.ThrowsAsync<CatalogFormatException>(() =>
                ReadAsync(File.ReadAllBytes(path), "c.xlsx", new CatalogReadOptions { Sheet = "Nope" }));

            Assert.Contains("'Nope'", ex.Message, StringComparison.Ordinal);
            Assert.Contains("Sheet1", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
