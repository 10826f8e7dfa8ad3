using System.Runtime.CompilerServices;
using System.Xml;

namespace ProductSimilarity.Core.Catalog;

/// <summary>
/// Reads a Google Merchant Center XML feed, RSS 2.0 (<c>channel/item</c>) or Atom (<c>feed/entry</c>), with the
/// <c>g:</c> namespace (<c>http://base.google.com/ns/1.0</c>), streamed with <see cref="XmlReader"/>: one item is held at
/// a time, never the whole document.
/// </summary>
/// <remarks>
/// Each child element of an item is one value named by its local name (<c>g:price</c> and <c>price</c> are the same);
/// nested elements such as <c>g:shipping</c> are kept as their text. Atom's <c>&lt;link href=".."/&gt;</c> gives the
/// link. Items map through <see cref="MerchantCenterLayout"/>. Malformed XML ends the read with one row error naming the
/// line; the items before it are kept. DTDs are refused. Stateless; thread-safe.
/// </remarks>
internal static class XmlFeedParser
{
    public static async IAsyncEnumerable<CatalogRow> ReadAsync(
        Stream input, string file, CatalogReadOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var settings = new XmlReaderSettings
        {
            Async = true,
            DtdProcessing = DtdProcessing.Prohibit,
            IgnoreComments = true,
            IgnoreProcessingInstructions = true,
            CloseInput = false,
        };
        using var reader = XmlReader.Create(input, settings);
        var lineInfo = (IXmlLineInfo)reader;
        var layout = PlatformLayout.Create(CatalogPlatform.Gmc, null, options, file);
        var builder = new ProductRowBuilder(file, options.PriceCulture);
        var item = new ItemRecordView();
        var raw = new RawRow();
        var sawRoot = false;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long line = lineInfo.LineNumber;
            CatalogRow? row = null;
            string? failure = null;
            var ended = false;
            try
            {
                if (!await reader.ReadAsync().ConfigureAwait(false))
                {
                    ended = true;
                }
                else if (reader.NodeType == XmlNodeType.Element)
                {
                    if (!sawRoot)
                    {
                        sawRoot = true;
                        if (reader.LocalName is not ("rss" or "feed" or "channel"))
                        {
                            throw new CatalogFormatException(file, lineInfo.LineNumber,
                                $"the XML root is <{reader.Name}>; expected an RSS 2.0 <rss> or Atom <feed> product feed");
                        }
                    }
                    else if (reader.LocalName is "item" or "entry")
                    {
                        line = lineInfo.LineNumber;
                        await ReadItemAsync(reader, item).ConfigureAwait(false);
                        row = layout.Map(item, raw) ? builder.Build(line, raw) : null;
                    }
                }
            }
            catch (XmlException ex)
            {
                failure = $"the XML is malformed ({ex.Message}); reading stopped here";
                line = ex.LineNumber;
                if (!sawRoot)
                {
                    throw new CatalogFormatException(file, ex.LineNumber, "not an XML feed: " + ex.Message, ex);
                }
            }

            if (failure is not null)
            {
                yield return builder.Error(line, null, failure);
                yield break;
            }

            if (ended)
            {
                if (!sawRoot)
                {
                    throw new CatalogFormatException(file, 0, "file is empty");
                }

                yield break;
            }

            if (row is { } result)
            {
                yield return result;
            }
        }
    }

    /// <summary>Collects the item's child elements; leaves the reader on the item's end element.</summary>
    private static async Task ReadItemAsync(XmlReader reader, ItemRecordView item)
    {
        item.Clear();
        if (reader.IsEmptyElement)
        {
            return;
        }

        var depth = reader.Depth;
        while (await reader.ReadAsync().ConfigureAwait(false))
        {
            if (reader.NodeType == XmlNodeType.EndElement && reader.Depth == depth)
            {
                return;
            }

            if (reader.NodeType != XmlNodeType.Element || reader.Depth != depth + 1)
            {
                continue;
            }

            var name = reader.LocalName;
            if (name == "link" && reader.GetAttribute("href") is { } href)
            {
                item.Add(name, href);
            }

            if (reader.IsEmptyElement)
            {
                continue;
            }

            // ReadInnerXml would keep markup; the text of the element (and of nested ones, for g:shipping) is what we want.
            var text = await ReadTextAsync(reader).ConfigureAwait(false);
            item.Add(name, text);
        }
    }

    private static async Task<string> ReadTextAsync(XmlReader reader)
    {
        var depth = reader.Depth;
        var text = new System.Text.StringBuilder();
        while (await reader.ReadAsync().ConfigureAwait(false))
        {
            if (reader.NodeType == XmlNodeType.EndElement && reader.Depth == depth)
            {
                break;
            }

            if (reader.NodeType is XmlNodeType.Text or XmlNodeType.CDATA)
            {
                text.Append(reader.Value);
            }
            else if (reader.NodeType is XmlNodeType.Whitespace or XmlNodeType.SignificantWhitespace or XmlNodeType.EndElement && text.Length > 0)
            {
                text.Append(' '); // between nested elements (g:shipping's g:country and g:price)
            }
        }

        return text.ToString().Trim();
    }
}
