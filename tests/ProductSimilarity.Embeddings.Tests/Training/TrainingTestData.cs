using ProductSimilarity.Embeddings.Training;

namespace ProductSimilarity.Embeddings.Tests.Training;

/// <summary>A tiny catalog of products that come in matching pairs, and whether PyTorch is here to train on it.</summary>
internal static class TrainingTestData
{
    private static readonly Lazy<string?> TorchProblem = new(() =>
    {
        try
        {
            new PythonTrainer().CheckAsync().GetAwaiter().GetResult();
            return null;
        }
        catch (TrainerUnavailableException ex)
        {
            return ex.Message;
        }
    });

    /// <summary>Null when the trainer can run; otherwise why not (the skip reason).</summary>
    public static string? WhyNoTorch => TorchProblem.Value;

    public static readonly (string Title, string Brand)[] Products =
    [
        ("adobe photoshop elements 4.0", "adobe"), ("photoshop elements 4 win", "adobe systems"),
        ("microsoft office 2007 home and student", "microsoft"), ("office home & student 2007", "microsoft corp"),
        ("norton antivirus 2006", "symantec"), ("symantec norton anti-virus 2006 cd", "symantec"),
        ("quickbooks pro 2007", "intuit"), ("intuit quickbooks professional 2007", "intuit inc"),
        ("mcafee internet security suite", "mcafee"), ("internet security suite by mcafee", "mcafee inc"),
        ("roxio easy media creator 9", "roxio"), ("easy media creator 9 suite", "sonic solutions"),
        ("autocad lt 2007", "autodesk"), ("autodesk autocad lt 2007 upgrade", "autodesk inc"),
        ("corel wordperfect office x3", "corel"), ("wordperfect office x3 standard", "corel corporation"),
        ("nero 7 ultra edition", "nero"), ("nero ultra edition 7", "ahead software"),
        ("acronis true image 9", "acronis"), ("true image home 9.0", "acronis inc"),
    ];

    /// <summary>Writes the catalog (ids p0..p19) and returns its path.</summary>
    public static string WriteCatalog(string folder)
    {
        var path = Path.Combine(folder, "catalog.csv");
        File.WriteAllLines(path, ["id,title,brand", .. Products.Select((p, i) => $"p{i},{p.Title},{p.Brand}")]);
        return path;
    }

    /// <summary>Writes pairs (p0,p1), (p2,p3)...: the first <paramref name="train"/> as train, the rest as valid; plus <paramref name="extraLines"/>.</summary>
    public static string WritePairs(string folder, int train, params string[] extraLines)
    {
        var path = Path.Combine(folder, "pairs.csv");
        var rows = Enumerable.Range(0, Products.Length / 2).Select(k => $"p{2 * k},p{(2 * k) + 1},1,{(k < train ? "train" : "valid")}");
        File.WriteAllLines(path, ["id_a,id_b,label,split", .. rows, .. extraLines]);
        return path;
    }
}
