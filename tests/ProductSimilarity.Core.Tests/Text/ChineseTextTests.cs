using ProductSimilarity.Core.Text;

namespace ProductSimilarity.Core.Tests.Text;

public sealed class ChineseTextTests
{
    [Theory]
    [InlineData("無線藍牙耳機", "无线蓝牙耳机")]
    [InlineData("電動牙刷 歐樂B", "电动牙刷 欧乐B")]
    [InlineData("蘇泊爾 不粘鍋 30釐米", "苏泊尔 不粘锅 30厘米")]
    [InlineData("华为 Mate 60", "华为 Mate 60")]
    [InlineData("Sony WH-1000XM4", "Sony WH-1000XM4")]
    public void ToSimplified_TraditionalOrMixed_SimplifiedAndRestKept(string text, string expected)
    {
        Assert.Equal(expected, ChineseText.ToSimplified(text));
    }

    [Fact]
    public void ToSimplified_Table_FromOpenCcLoaded()
    {
        Assert.True(ChineseText.TableSize > 3000);
    }
}
