using System.Globalization;
using System.Text;

namespace ProductSimilarity.Cli.Commands;

/// <summary>
/// A synthetic product catalog for <c>psim bench</c>: titles, descriptions, brands, categories, prices and stock built
/// from word lists with a fixed seed, so that any size of catalog is the same on every run and every machine. Titles
/// and descriptions have the length and shape of shop listings (brand, qualities, product noun, model code, colour,
/// size), and products of one category share words, as real ones do.
/// </summary>
internal static class SyntheticCatalog
{
    private static readonly string[] Brands =
    [
        "Acme", "Northwind", "Contoso", "Fabrikam", "Tailspin", "Litware", "Proseware", "Adatum", "Wingtip", "Woodgrove",
        "Lumio", "Kestrel", "Orbis", "Halden", "Veltra", "Quillon", "Marlowe", "Sorrel", "Brisa", "Tundra",
        "Nimbus", "Calder", "Ferro", "Aurel", "Pike", "Juniper", "Osprey", "Rook", "Vesta", "Zephyr",
    ];

    private static readonly (string Category, string[] Nouns, string[] Qualities)[] Categories =
    [
        ("Electronics > Audio", ["Wireless Earbuds", "Over-Ear Headphones", "Bluetooth Speaker", "Soundbar", "Turntable", "Portable Radio"],
            ["Noise Cancelling", "Hi-Res", "Waterproof", "Bass Boost", "Long Battery", "Low Latency"]),
        ("Electronics > Computers", ["Laptop", "Mechanical Keyboard", "Wireless Mouse", "USB-C Hub", "External SSD", "Monitor"],
            ["Ultra-Thin", "Backlit", "Ergonomic", "4K", "Fast Charging", "Aluminium"]),
        ("Home & Kitchen > Cookware", ["Frying Pan", "Stock Pot", "Saucepan", "Dutch Oven", "Wok", "Baking Tray"],
            ["Non-Stick", "Cast Iron", "Stainless Steel", "Induction Ready", "Oven Safe", "Ceramic Coated"]),
        ("Home & Kitchen > Appliances", ["Rice Cooker", "Air Fryer", "Blender", "Electric Kettle", "Coffee Maker", "Toaster"],
            ["Programmable", "Compact", "Digital", "Quiet", "Energy Saving", "Large Capacity"]),
        ("Sports > Outdoor", ["Hiking Backpack", "Camping Tent", "Sleeping Bag", "Trekking Poles", "Headlamp", "Water Bottle"],
            ["Lightweight", "Insulated", "Weatherproof", "Foldable", "Rechargeable", "Ultralight"]),
        ("Sports > Fitness", ["Yoga Mat", "Dumbbell Set", "Resistance Bands", "Jump Rope", "Kettlebell", "Foam Roller"],
            ["Non-Slip", "Adjustable", "Heavy Duty", "Eco-Friendly", "Padded", "Anti-Burst"]),
        ("Clothing > Men", ["Running Shoes", "Rain Jacket", "Cotton T-Shirt", "Chino Trousers", "Wool Sweater", "Leather Belt"],
            ["Breathable", "Slim Fit", "Water Resistant", "Organic", "Stretch", "Classic"]),
        ("Clothing > Women", ["Ankle Boots", "Summer Dress", "Denim Jacket", "Yoga Leggings", "Cashmere Scarf", "Tote Bag"],
            ["Lightweight", "High Waist", "Vegan Leather", "Relaxed Fit", "Soft Touch", "Handmade"]),
        ("Health > Supplements", ["Vitamin C Tablets", "Fish Oil Capsules", "Protein Powder", "Magnesium Tablets", "Multivitamin", "Probiotic Capsules"],
            ["1000 mg", "Sugar Free", "High Strength", "Vegan", "Slow Release", "Unflavoured"]),
        ("Toys > Games", ["Building Blocks", "Jigsaw Puzzle", "Board Game", "Remote Control Car", "Plush Bear", "Art Set"],
            ["Educational", "1000 Piece", "Family", "Rechargeable", "Washable", "Deluxe"]),
    ];

    private static readonly string[] Colours = ["Black", "White", "Silver", "Navy", "Red", "Green", "Grey", "Blue", "Beige", "Pink"];

    private static readonly string[] Sizes = ["Small", "Medium", "Large", "XL", "28 cm", "1.5 L", "500 g", "2-Pack", "12 in", "64 GB"];

    private static readonly string[] Phrases =
    [
        "Built to last with a two-year warranty.", "Easy to clean and simple to store.", "Ships in recyclable packaging.",
        "Designed and tested in our own workshop.", "A favourite of reviewers for everyday use.", "Compact enough to travel anywhere.",
        "Made from responsibly sourced materials.", "Includes everything you need to get started.", "Comfortable for all-day use.",
        "Backed by friendly customer support.",
    ];

    /// <summary>The CSV header, the same columns as the bundled sample catalog.</summary>
    public const string Header = "id,title,description,brand,category,price,currency,in_stock,group_id,image_url,color,size,material";

    /// <summary>One synthetic product.</summary>
    public sealed record Row(string Id, string Title, string Description, string Brand, string Category, decimal Price, bool InStock, string Colour, string Size);

    /// <summary>Products 0 to <paramref name="count"/> - 1, the same for a given count on every run.</summary>
    public static IEnumerable<Row> Rows(int count, int seed = 20_260_101)
    {
        var random = new Random(seed);
        for (int i = 0; i < count; i++)
        {
            var (category, nouns, qualities) = Categories[random.Next(Categories.Length)];
            string brand = Brands[random.Next(Brands.Length)];
            string noun = nouns[random.Next(nouns.Length)];
            string quality = qualities[random.Next(qualities.Length)];
            string second = qualities[random.Next(qualities.Length)];
            string colour = Colours[random.Next(Colours.Length)];
            string size = Sizes[random.Next(Sizes.Length)];
            string code = $"{(char)('A' + random.Next(26))}{(char)('A' + random.Next(26))}-{random.Next(100, 9999).ToString(CultureInfo.InvariantCulture)}";
            string title = second == quality
                ? $"{brand} {quality} {noun} {code}, {colour}, {size}"
                : $"{brand} {quality} {second} {noun} {code} - {colour}";
            string description = $"{quality} {noun.ToLowerInvariant()} from {brand}. {Phrases[random.Next(Phrases.Length)]} {Phrases[random.Next(Phrases.Length)]}";
            decimal price = Math.Round((decimal)(5 + (random.NextDouble() * random.NextDouble() * 500)), 2);
            yield return new Row($"S{i.ToString("D7", CultureInfo.InvariantCulture)}", title, description, brand, category, price, random.Next(10) != 0, colour, size);
        }
    }

    /// <summary>Writes <paramref name="count"/> products as a CSV file in the sample catalog's layout.</summary>
    public static async Task WriteCsvAsync(string path, int count, CancellationToken ct)
    {
        await using var writer = new StreamWriter(path, append: false, new UTF8Encoding(false));
        await writer.WriteLineAsync(Header.AsMemory(), ct).ConfigureAwait(false);
        var line = new StringBuilder();
        foreach (var r in Rows(count))
        {
            line.Clear()
                .Append(r.Id).Append(',')
                .Append(Quote(r.Title)).Append(',')
                .Append(Quote(r.Description)).Append(',')
                .Append(Quote(r.Brand)).Append(',')
                .Append(Quote(r.Category)).Append(',')
                .Append(r.Price.ToString(CultureInfo.InvariantCulture)).Append(",USD,")
                .Append(r.InStock ? "true" : "false").Append(",,,")
                .Append(Quote(r.Colour)).Append(',')
                .Append(Quote(r.Size)).Append(',');
            await writer.WriteLineAsync(line, ct).ConfigureAwait(false);
        }
    }

    private static string Quote(string value)
        => value.AsSpan().IndexOfAny(",\"\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
}
