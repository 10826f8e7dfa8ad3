using ProductSimilarity.Core.Catalog;

namespace ProductSimilarity.Core.Tests.Catalog;

public sealed class ProductIdentifiersTests
{
    [Theory]
    [InlineData("4006381333931", "04006381333931")] // EAN-13
    [InlineData("400-6381-33393-1", "04006381333931")]
    [InlineData("012345678905", "00012345678905")] // UPC-A
    [InlineData("12345678905", "00012345678905")] // UPC-A whose leading zero a spreadsheet dropped
    [InlineData("96385074", "00000096385074")] // EAN-8
    [InlineData("10012345678902", "10012345678902")] // GTIN-14
    [InlineData("978-0-306-40615-7", "09780306406157")] // ISBN-13
    [InlineData("0-306-40615-2", "09780306406157")] // ISBN-10 becomes its ISBN-13
    [InlineData("080442957X", "09780804429573")] // ISBN-10 with X
    public void TryNormalizeGtin_ValidCodes_GivesGtin14(string text, string expected)
    {
        Assert.True(ProductIdentifiers.TryNormalizeGtin(text, out var gtin, out var reason), reason);
        Assert.Equal(expected, gtin);
    }

    [Theory]
    [InlineData("4006381333932", "check digit")]
    [InlineData("0-306-40615-3", "ISBN-10")]
    [InlineData("1234567", "8 to 14 digits")]
    [InlineData("123456789012345", "8 to 14 digits")]
    [InlineData("ABC12345678", "8 to 14 digits")]
    [InlineData("00000000", "zeros")]
    public void TryNormalizeGtin_InvalidCodes_FailsWithReason(string text, string reason)
    {
        Assert.False(ProductIdentifiers.TryNormalizeGtin(text, out var gtin, out var why));
        Assert.Null(gtin);
        Assert.Contains(reason, why, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("wh-1000xm4", "WH1000XM4")]
    [InlineData(" WH 1000 XM4 ", "WH1000XM4")]
    [InlineData("RDG.100/M", "RDG100M")]
    [InlineData("  ", null)]
    public void NormalizeMpn_WrittenDifferently_GivesOneCode(string text, string? expected) =>
        Assert.Equal(expected, ProductIdentifiers.NormalizeMpn(text));
}
