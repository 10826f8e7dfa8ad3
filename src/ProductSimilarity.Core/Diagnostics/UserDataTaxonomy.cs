using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Compliance.Classification;
using Microsoft.Extensions.Compliance.Redaction;

namespace ProductSimilarity.Core.Diagnostics;

/// <summary>
/// The data classes of what users send us, for <c>Microsoft.Extensions.Compliance.Redaction</c>: log parameters carry one
/// of the attributes below, and the hosts register a redactor for each class (AddProductSimilarity: erasing for free text, <see cref="ShortHashRedactor"/> for ids).
/// </summary>
public static class UserDataTaxonomy
{
    /// <summary>The taxonomy name.</summary>
    public const string Name = "ProductSimilarity";

    /// <summary>Free text a shopper or client typed (search text): may hold anything, so it is erased from logs.</summary>
    public static DataClassification FreeText { get; } = new(Name, nameof(FreeText));

    /// <summary>An identifier named in a request (a product id): replaced by a short stable hash, so log lines still correlate.</summary>
    public static DataClassification RequestIdentifier { get; } = new(Name, nameof(RequestIdentifier));
}

/// <summary>Marks a log parameter as <see cref="UserDataTaxonomy.FreeText"/>.</summary>
[AttributeUsage(AttributeTargets.Parameter | AttributeTargets.Property | AttributeTargets.Field)]
public sealed class FreeTextAttribute() : DataClassificationAttribute(UserDataTaxonomy.FreeText);

/// <summary>Marks a log parameter as <see cref="UserDataTaxonomy.RequestIdentifier"/>.</summary>
[AttributeUsage(AttributeTargets.Parameter | AttributeTargets.Property | AttributeTargets.Field)]
public sealed class RequestIdentifierAttribute() : DataClassificationAttribute(UserDataTaxonomy.RequestIdentifier);

/// <summary>
/// Replaces a value with <c>#</c> and the first 12 hex digits of its SHA-256: the same id always gives the same token, so
/// requests can be correlated in logs without the id itself. Thread-safe and stateless.
/// </summary>
public sealed class ShortHashRedactor : Redactor
{
    private const int HexDigits = 12;

    /// <inheritdoc />
    public override int GetRedactedLength(ReadOnlySpan<char> input) => HexDigits + 1;

    /// <inheritdoc />
    public override int Redact(ReadOnlySpan<char> source, Span<char> destination)
    {
        Span<byte> utf8 = source.Length <= 256 ? stackalloc byte[Encoding.UTF8.GetMaxByteCount(source.Length)] : new byte[Encoding.UTF8.GetMaxByteCount(source.Length)];
        int written = Encoding.UTF8.GetBytes(source, utf8);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(utf8[..written], hash);
        destination[0] = '#';
        Convert.TryToHexStringLower(hash[..(HexDigits / 2)], destination[1..], out _);
        return HexDigits + 1;
    }
}
