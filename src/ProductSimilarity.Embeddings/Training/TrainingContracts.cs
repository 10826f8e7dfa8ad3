namespace ProductSimilarity.Embeddings.Training;

/// <summary>Where the positive pairs come from.</summary>
public enum TrainingSource
{
    /// <summary>A labelled pairs file <c>id_a,id_b[,label][,split]</c>.</summary>
    Pairs,

    /// <summary>Products that share a <c>group_id</c> (variants).</summary>
    Groups,

    /// <summary>Products viewed or bought one after the other by the same user (<c>user,id,event,at</c>).</summary>
    Sessions,

    /// <summary>Each product's embedded text (title and brand) paired with the start of its own description: no labels needed.</summary>
    Descriptions,
}

/// <summary>What <c>psim train</c> was asked to do.</summary>
public sealed record FineTuneRequest
{
    /// <summary>The catalog (any format psim ingest reads).</summary>
    public required string CatalogPath { get; init; }

    /// <summary>Where the positives come from.</summary>
    public required TrainingSource Source { get; init; }

    /// <summary>The pairs file (<see cref="TrainingSource.Pairs"/>) or history log (<see cref="TrainingSource.Sessions"/>).</summary>
    public string? SourcePath { get; init; }

    /// <summary>The folder the model (or adapter) and its card are written to; created when missing.</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>Most epochs; training stops earlier when validation stops improving.</summary>
    public int Epochs { get; init; } = 3;

    /// <summary>Pairs per batch (each pair's partner is every other pair's negative).</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Peak AdamW learning rate (after 10% linear warm-up, then linear decay).</summary>
    public double LearningRate { get; init; } = 2e-5;

    /// <summary>Epochs without a better validation score before training stops.</summary>
    public int Patience { get; init; } = 2;

    /// <summary>Seed for the validation hold-out, the batch order and the initialisation.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>The share of pairs held out for validation when the pairs carry no split.</summary>
    public double ValidationFraction { get; init; } = 0.15;

    /// <summary>Train even with fewer than <see cref="FineTuner.MinimumPairs"/> pairs.</summary>
    public bool Force { get; init; }

    /// <summary>Most wall-clock minutes between two consecutive session events still counted as one visit.</summary>
    public int SessionGapMinutes { get; init; } = 30;

    /// <summary>Trainer threads; 0 lets PyTorch decide (all cores).</summary>
    public int Threads { get; init; }
}

/// <summary>A pair or history row that names a product the catalog does not have.</summary>
/// <param name="File">The pairs or history file.</param>
/// <param name="Line">The 1-based line.</param>
/// <param name="Id">The unknown id.</param>
public sealed record MissingId(string File, int Line, string Id);

/// <summary>Progress of a training run.</summary>
/// <param name="Stage">What runs now: <c>preparing</c>, <c>training</c>, <c>validating</c>, <c>writing</c>.</param>
/// <param name="Epoch">The current epoch (1-based; 0 before training).</param>
/// <param name="Step">Optimiser steps done.</param>
/// <param name="Steps">Optimiser steps planned (before early stopping).</param>
/// <param name="Loss">The last batch loss.</param>
/// <param name="StepsPerSecond">Mean training rate so far.</param>
/// <param name="Eta">Time left for the planned steps at that rate, when known.</param>
/// <param name="Metrics">The validation metrics, reported after each epoch.</param>
public sealed record TrainingProgress(string Stage, int Epoch, int Step, int Steps, double Loss, double StepsPerSecond, TimeSpan? Eta, EpochMetrics? Metrics);

/// <summary>Validation metrics after one epoch (epoch 0: before training).</summary>
/// <param name="Epoch">The epoch.</param>
/// <param name="RecallAt1">Share of validation queries (both sides of each pair) whose nearest candidate is a known positive.</param>
/// <param name="MrrAt10">Mean reciprocal rank of the first known positive in the top 10.</param>
public sealed record EpochMetrics(int Epoch, double RecallAt1, double MrrAt10);

/// <summary>The model card written beside a trained model or adapter (<c>model-card.json</c>).</summary>
public sealed record ModelCard
{
    /// <summary><c>fine-tuned</c> (a full ONNX model) or <c>adapter</c> (a linear map on frozen vectors).</summary>
    public required string Kind { get; init; }

    /// <summary>The model the training started from.</summary>
    public required string BaseModel { get; init; }

    /// <summary>SHA-256 of the training data as handed to the trainer (token ids and pairs), so two cards tell whether they saw the same data.</summary>
    public required string DataHash { get; init; }

    /// <summary>Where the pairs came from.</summary>
    public required string Source { get; init; }

    /// <summary>Training pairs.</summary>
    public int TrainPairs { get; init; }

    /// <summary>Validation pairs.</summary>
    public int ValidationPairs { get; init; }

    /// <summary>Pair rows skipped because they named an id the catalog does not have.</summary>
    public int MissingIds { get; init; }

    /// <summary>Epochs asked for.</summary>
    public int Epochs { get; init; }

    /// <summary>The epoch whose weights were kept (best validation recall@1, then MRR@10).</summary>
    public int BestEpoch { get; init; }

    /// <summary>Validation metrics before training (epoch 0) and after each epoch.</summary>
    public IReadOnlyList<EpochMetrics> Validation { get; init; } = [];

    /// <summary>Batch size, learning rate, seed and token limit.</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();

    /// <summary>Seconds spent in the trainer (training and validation), excluding preparation and writing.</summary>
    public double TrainingSeconds { get; init; }

    /// <summary>The PyTorch version that trained it.</summary>
    public string? Torch { get; init; }

    /// <summary>When it finished (UTC).</summary>
    public DateTimeOffset Date { get; init; }
}

/// <summary>What a training run produced.</summary>
/// <param name="Card">The model card (also written as JSON).</param>
/// <param name="OutputPath">The ONNX model or adapter file.</param>
/// <param name="Missing">Pair rows naming ids the catalog lacks (also written to <c>missing-ids.csv</c>).</param>
public sealed record FineTuneResult(ModelCard Card, string OutputPath, IReadOnlyList<MissingId> Missing);

/// <summary>Too few pairs to train on without <see cref="FineTuneRequest.Force"/>.</summary>
public sealed class TooFewPairsException(string message) : InvalidOperationException(message);
