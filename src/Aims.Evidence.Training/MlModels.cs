using Aims.Evidence.Core.Mapping.Trained;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.LightGbm;

namespace Aims.Evidence.Training;

/// <summary>
/// The ML.NET learners behind the trained mapper, with their parameters exported into the product's own model format
/// (<see cref="LinearModel"/>, <see cref="TreeEnsemble"/>) so that mapping needs no ML.NET at run time. Every learner
/// runs single-threaded with a fixed seed: the same rows give the same bytes.
/// </summary>
internal static class MlModels
{
    private sealed class Row
    {
        public float[] Features { get; set; } = [];

        public uint Key { get; set; }

        public bool Label { get; set; }
    }

    /// <summary>Rows as a data view; with <paramref name="classes"/>, <see cref="Row.Key"/> is a key column of that many classes (raw value = class index).</summary>
    private static IDataView Load(MLContext ml, IReadOnlyList<double[]> x, Func<int, Row> row, int classes = 0)
    {
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, x[0].Length);
        if (classes > 0)
        {
            schema[nameof(Row.Key)].ColumnType = new KeyDataViewType(typeof(uint), (ulong)classes);
        }

        return ml.Data.LoadFromEnumerable(Enumerable.Range(0, x.Count).Select(row), schema);
    }

    private static float[] F(double[] v) => Array.ConvertAll(v, d => (float)d);

    /// <summary>Multinomial logistic regression (L-BFGS); classes are 0..classes-1.</summary>
    public static LinearModel Multinomial(IReadOnlyList<double[]> x, IReadOnlyList<int> y, int classes, int seed, float l2 = 1f)
    {
        var ml = new MLContext(seed);
        var dims = x[0].Length;
        var data = Load(ml, x, i => new Row { Features = F(x[i]), Key = (uint)y[i] }, classes);
        var trainer = ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(new LbfgsMaximumEntropyMulticlassTrainer.Options
        {
            LabelColumnName = nameof(Row.Key),
            FeatureColumnName = nameof(Row.Features),
            NumberOfThreads = 1,
            L2Regularization = l2,
            L1Regularization = 0,
            MaximumNumberOfIterations = 200,
        });
        var model = trainer.Fit(data).Model;
        VBuffer<float>[] weights = [];
        model.GetWeights(ref weights, out var numClasses);
        var biases = model.GetBiases().ToArray();
        var w = new double[classes][];
        var b = new double[classes];
        for (var c = 0; c < classes; c++)
        {
            w[c] = new double[dims];
            if (c < numClasses)
            {
                var dense = weights[c].DenseValues().ToArray();
                for (var d = 0; d < dims; d++)
                {
                    w[c][d] = dense[d];
                }

                b[c] = biases[c];
            }
            else
            {
                b[c] = -30; // a class absent from these rows
            }
        }

        return new LinearModel { Weights = w, Bias = b };
    }

    /// <summary>Binary logistic regression (L-BFGS); the probability is the sigmoid of the linear score.</summary>
    public static LinearModel Logistic(IReadOnlyList<double[]> x, IReadOnlyList<bool> y, int seed, float l2 = 1f)
    {
        var ml = new MLContext(seed);
        var data = Load(ml, x, i => new Row { Features = F(x[i]), Label = y[i] });
        var trainer = ml.BinaryClassification.Trainers.LbfgsLogisticRegression(new LbfgsLogisticRegressionBinaryTrainer.Options
        {
            LabelColumnName = nameof(Row.Label),
            FeatureColumnName = nameof(Row.Features),
            NumberOfThreads = 1,
            L2Regularization = l2,
            L1Regularization = 0,
            MaximumNumberOfIterations = 200,
        });
        var sub = trainer.Fit(data).Model.SubModel;
        return new LinearModel { Weights = [sub.Weights.Select(v => (double)v).ToArray()], Bias = [sub.Bias] };
    }

    /// <summary>Gradient-boosted trees (LightGBM, deterministic); the exported ensemble reproduces ML.NET's score.</summary>
    public static TreeEnsemble Trees(IReadOnlyList<double[]> x, IReadOnlyList<bool> y, int seed, int trees, int leaves, double learningRate)
    {
        var ml = new MLContext(seed);
        var data = Load(ml, x, i => new Row { Features = F(x[i]), Label = y[i] });
        var trainer = ml.BinaryClassification.Trainers.LightGbm(new LightGbmBinaryTrainer.Options
        {
            LabelColumnName = nameof(Row.Label),
            FeatureColumnName = nameof(Row.Features),
            NumberOfIterations = trees,
            NumberOfLeaves = leaves,
            LearningRate = learningRate,
            MinimumExampleCountPerLeaf = 50,
            Seed = seed,
            Deterministic = true,
            NumberOfThreads = 1,
            Verbose = false,
            Silent = true,
        });
        var transformer = trainer.Fit(data);
        var ensemble = transformer.Model.SubModel.TrainedTreeEnsemble;
        var exported = new TreeEnsemble
        {
            Bias = ensemble.Bias,
            Trees = ensemble.Trees.Select((t, k) => new TreeData
            {
                Weight = ensemble.TreeWeights[k],
                Feature = t.NumericalSplitFeatureIndexes.ToArray(),
                Threshold = t.NumericalSplitThresholds.ToArray(),
                Left = t.LeftChild.ToArray(),
                Right = t.RightChild.ToArray(),
                Leaf = t.LeafValues.ToArray(),
            }).ToArray(),
        };

        // The export must score exactly as ML.NET does (checked on the first rows).
        var check = Math.Min(x.Count, 500);
        var scored = transformer.Transform(ml.Data.TakeRows(data, check));
        var scores = scored.GetColumn<float>("Score").ToArray();
        for (var i = 0; i < scores.Length; i++)
        {
            var ours = exported.Score(x[i]);
            if (Math.Abs(ours - scores[i]) > 1e-3 * Math.Max(1, Math.Abs(scores[i])))
            {
                throw new InvalidOperationException($"exported trees disagree with ML.NET on row {i}: {ours} vs {scores[i]}");
            }
        }

        return exported;
    }
}

/// <summary>
/// Logistic regression over sparse inputs by AdaGrad, for the many sparse text features of the polarity model: an
/// L2 penalty on the weights an example touches, positives weighted up, examples in a seeded order (same rows, same
/// model, byte for byte).
/// </summary>
internal static class SparseLogistic
{
    public static (int[] Index, double[] Value) Sparse(double[] x)
    {
        ArgumentNullException.ThrowIfNull(x);
        var index = new List<int>();
        for (var i = 0; i < x.Length; i++)
        {
            if (x[i] != 0)
            {
                index.Add(i);
            }
        }

        return ([.. index], [.. index.Select(i => x[i])]);
    }

    /// <summary>The binary model's probability for one sparse row (what <see cref="LinearModel.Probabilities"/> gives for the dense row).</summary>
    public static double Probability(LinearModel model, (int[] Index, double[] Value) row)
    {
        var z = model.Bias[0];
        for (var k = 0; k < row.Index.Length; k++)
        {
            z += model.Weights[0][row.Index[k]] * row.Value[k];
        }

        return LinearModel.Sigmoid(z);
    }

    public static LinearModel Fit(IReadOnlyList<(int[] Index, double[] Value)> x, IReadOnlyList<bool> y, int dimensions, int seed, double l2, double positiveWeight, int epochs = 15, double rate = 0.3)
    {
        var w = new double[dimensions];
        var g2 = new double[dimensions];
        double bias = 0, biasG2 = 0;
        var order = Enumerable.Range(0, x.Count).ToArray();
        var random = new Random(seed);
        for (var epoch = 0; epoch < epochs; epoch++)
        {
            random.Shuffle(order);
            foreach (var i in order)
            {
                var (index, value) = x[i];
                var z = bias;
                for (var k = 0; k < index.Length; k++)
                {
                    z += w[index[k]] * value[k];
                }

                var g = (LinearModel.Sigmoid(Math.Clamp(z, -30, 30)) - (y[i] ? 1 : 0)) * (y[i] ? positiveWeight : 1);
                for (var k = 0; k < index.Length; k++)
                {
                    var j = index[k];
                    var gk = (g * value[k]) + (l2 * w[j]);
                    g2[j] += gk * gk;
                    w[j] -= rate * gk / Math.Sqrt(g2[j] + 1e-8);
                }

                var gb = g + (l2 * bias);
                biasG2 += gb * gb;
                bias -= rate * gb / Math.Sqrt(biasG2 + 1e-8);
            }
        }

        return new LinearModel { Weights = [w], Bias = [bias] };
    }
}
