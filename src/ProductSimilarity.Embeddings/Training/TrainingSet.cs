using System.Globalization;
using nietras.SeparatedValues;
using ProductSimilarity.Core.Catalog;
using ProductSimilarity.Core.Text;

namespace ProductSimilarity.Embeddings.Training;

/// <summary>
/// The products and positive pairs one training run uses: the catalog read through the normal reader and normaliser,
/// the pairs resolved to catalog positions, split into train and validation.
/// </summary>
/// <remarks>Immutable once built; thread-safe to read.</remarks>
public sealed class TrainingSet
{
    /// <summary>The characters of a description that <see cref="TrainingSource.Descriptions"/> pairs with its title (cut at a word).</summary>
    public const int DescriptionChars = 200;

    private TrainingSet(IReadOnlyList<Product> products, IReadOnlyList<string> texts, IReadOnlyList<(int A, int B)> train, IReadOnlyList<(int A, int B)> valid, IReadOnlyList<MissingId> missing, string source)
    {
        Products = products;
        Texts = texts;
        Train = train;
        Validation = valid;
        Missing = missing;
        Source = source;
    }

    /// <summary>Every good catalog product, normalised, in file order.</summary>
    public IReadOnlyList<Product> Products { get; }

    /// <summary>Training pairs as positions in <see cref="Texts"/>.</summary>
    public IReadOnlyList<(int A, int B)> Train { get; }

    /// <summary>Validation pairs as positions in <see cref="Texts"/>.</summary>
    public IReadOnlyList<(int A, int B)> Validation { get; }

    /// <summary>Rows that named an id the catalog does not have.</summary>
    public IReadOnlyList<MissingId> Missing { get; }

    /// <summary>Where the pairs came from, for the model card.</summary>
    public string Source { get; }

    /// <summary>
    /// The texts the pairs point into: first, for each product in <see cref="Products"/> order, exactly what ingestion
    /// embeds (<see cref="ProductText.ForEmbedding"/>); then, for <see cref="TrainingSource.Descriptions"/>, the start of
    /// each description that has one.
    /// </summary>
    public IReadOnlyList<string> Texts { get; }

    /// <summary>Reads the catalog and the pairs <paramref name="request"/> names.</summary>
    /// <exception cref="FormatException">The pairs or history file lacks a required column, or a timestamp does not parse; the message names file, line and field.</exception>
    public static async Task<TrainingSet> LoadAsync(FineTuneRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var products = new List<Product>();
        var reader = new CatalogReader();
        await using (var stream = File.OpenRead(request.CatalogPath))
        {
            await foreach (var row in reader.ReadAsync(stream, Path.GetFileName(request.CatalogPath), cancellationToken).ConfigureAwait(false))
            {
                if (row.Product is { } product && TextNormalizer.Default.Normalize(product) is { Deleted: false } normalised)
                {
                    products.Add(normalised);
                }
            }
        }

        var positions = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < products.Count; i++)
        {
            positions.TryAdd(products[i].Id, i);
        }

        var texts = products.Select(ProductText.ForEmbedding).ToList();
        var missing = new List<MissingId>();
        var train = new List<(int, int)>();
        var valid = new List<(int, int)>();
        var unsplit = new List<(int, int)>();
        string source;
        switch (request.Source)
        {
            case TrainingSource.Pairs:
                source = "pairs: " + Path.GetFileName(request.SourcePath);
                ReadPairs(Required(request), positions, missing, train, valid, unsplit);
                break;
            case TrainingSource.Groups:
                source = "groups";
                HoldOutGroups(products, request, train, valid);
                break;
            case TrainingSource.Sessions:
                source = "sessions: " + Path.GetFileName(request.SourcePath);
                ReadSessions(Required(request), request.SessionGapMinutes, positions, missing, unsplit);
                break;
            case TrainingSource.Descriptions:
                source = "descriptions";
                PairDescriptions(products, texts, unsplit);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(request), request.Source, "Unknown training source.");
        }

        if (unsplit.Count > 0)
        {
            // Deterministic hold-out by seed: the same pairs file and seed always give the same split.
            var rng = new Random(request.Seed);
            var shuffled = unsplit.Distinct().OrderBy(_ => rng.Next()).ToList();
            int holdOut = train.Count + valid.Count == 0 && shuffled.Count > 1 && request.ValidationFraction > 0
                ? Math.Max(1, (int)Math.Round(shuffled.Count * request.ValidationFraction)) : 0;
            valid.AddRange(shuffled.Take(holdOut));
            train.AddRange(shuffled.Skip(holdOut));
        }

        return new TrainingSet(products, texts, train.Distinct().ToList(), valid.Distinct().ToList(), missing, source);
    }

    /// <summary>The first <see cref="DescriptionChars"/> characters of <paramref name="description"/>, cut at the last space before them.</summary>
    public static string DescriptionExcerpt(string description)
    {
        ArgumentNullException.ThrowIfNull(description);
        var text = description.Trim();
        if (text.Length <= DescriptionChars)
        {
            return text;
        }

        int cut = text.LastIndexOf(' ', DescriptionChars);
        return text[..(cut > 0 ? cut : DescriptionChars)].TrimEnd();
    }

    private static void PairDescriptions(List<Product> products, List<string> texts, List<(int, int)> pairs)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < products.Count; i++)
        {
            // A description that only repeats the title, or one shared word for word with another product, teaches nothing.
            if (products[i].Description is not { Length: > 0 } description
                || DescriptionExcerpt(description) is not { Length: > 0 } excerpt
                || string.Equals(excerpt, products[i].Title, StringComparison.OrdinalIgnoreCase)
                || !seen.Add(excerpt))
            {
                continue;
            }

            pairs.Add((i, texts.Count));
            texts.Add(excerpt);
        }
    }

    private static string Required(FineTuneRequest request) =>
        request.SourcePath ?? throw new ArgumentException($"The {request.Source} source needs a file.", nameof(request));

    private static void ReadPairs(string path, Dictionary<string, int> positions, List<MissingId> missing, List<(int, int)> train, List<(int, int)> valid, List<(int, int)> unsplit)
    {
        using var reader = Sep.Reader(o => o with { Unescape = true }).FromFile(path);
        var columns = reader.Header.ColNames;
        if (!columns.Contains("id_a") || !columns.Contains("id_b"))
        {
            throw new FormatException($"{path}:1: expected columns id_a,id_b[,label][,split]; found {string.Join(",", columns)}.");
        }

        bool hasLabel = columns.Contains("label"), hasSplit = columns.Contains("split");
        int line = 1;
        foreach (var row in reader)
        {
            line++;
            if (hasLabel && row["label"].ToString().Trim() is var label && label != "1")
            {
                if (label is not ("0" or ""))
                {
                    throw new FormatException($"{path}:{line}: field 'label' is '{label}'; expected 1 (a match) or 0.");
                }

                continue;
            }

            var split = hasSplit ? row["split"].ToString().Trim().ToLowerInvariant() : string.Empty;
            if (!Resolve(path, line, row["id_a"].ToString().Trim(), row["id_b"].ToString().Trim(), positions, missing, out var pair))
            {
                continue;
            }

            switch (split)
            {
                case "train":
                    train.Add(pair);
                    break;
                case "valid" or "validation" or "dev":
                    valid.Add(pair);
                    break;
                case "":
                    unsplit.Add(pair);
                    break;
                default:
                    break; // test (or any other named split) is never trained on
            }
        }
    }

    private static void HoldOutGroups(List<Product> products, FineTuneRequest request, List<(int, int)> train, List<(int, int)> valid)
    {
        var rng = new Random(request.Seed);
        var groups = products.Select((p, i) => (p.GroupId, i)).Where(x => !string.IsNullOrEmpty(x.GroupId))
            .GroupBy(x => x.GroupId!, StringComparer.Ordinal).Where(g => g.Count() > 1)
            .OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => g.Select(x => x.i).ToList()).ToList();
        foreach (var members in groups)
        {
            // Every member paired with its neighbour: n - 1 pairs tie the whole group together without n² pairs.
            var target = rng.NextDouble() < request.ValidationFraction ? valid : train;
            for (int k = 1; k < members.Count; k++)
            {
                target.Add((members[k - 1], members[k]));
            }
        }
    }

    private static void ReadSessions(string path, int gapMinutes, Dictionary<string, int> positions, List<MissingId> missing, List<(int, int)> pairs)
    {
        using var reader = Sep.Reader(o => o with { Unescape = true }).FromFile(path);
        var columns = reader.Header.ColNames;
        foreach (var required in new[] { "user", "id", "at" })
        {
            if (!columns.Contains(required))
            {
                throw new FormatException($"{path}:1: expected columns user,id,event,at; '{required}' is missing.");
            }
        }

        var events = new List<(string User, DateTimeOffset At, int Product)>();
        int line = 1;
        foreach (var row in reader)
        {
            line++;
            var at = row["at"].ToString().Trim();
            if (!DateTimeOffset.TryParse(at, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
            {
                throw new FormatException($"{path}:{line}: field 'at' is '{at}', which is not a date and time (ISO 8601, e.g. 2025-01-31T12:00:00Z).");
            }

            var id = row["id"].ToString().Trim();
            if (!positions.TryGetValue(id, out var product))
            {
                missing.Add(new MissingId(path, line, id));
                continue;
            }

            events.Add((row["user"].ToString().Trim(), time, product));
        }

        var gap = TimeSpan.FromMinutes(gapMinutes);
        foreach (var visits in events.GroupBy(e => e.User, StringComparer.Ordinal))
        {
            (DateTimeOffset At, int Product)? previous = null;
            foreach (var (_, at, product) in visits.OrderBy(e => e.At))
            {
                if (previous is { } p && p.Product != product && at - p.At <= gap)
                {
                    pairs.Add(p.Product < product ? (p.Product, product) : (product, p.Product));
                }

                previous = (at, product);
            }
        }
    }

    private static bool Resolve(string path, int line, string a, string b, Dictionary<string, int> positions, List<MissingId> missing, out (int, int) pair)
    {
        bool okA = positions.TryGetValue(a, out var ia), okB = positions.TryGetValue(b, out var ib);
        if (!okA)
        {
            missing.Add(new MissingId(path, line, a));
        }

        if (!okB)
        {
            missing.Add(new MissingId(path, line, b));
        }

        pair = (ia, ib);
        return okA && okB && ia != ib;
    }
}
