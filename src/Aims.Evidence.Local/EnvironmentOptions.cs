using System.Globalization;
using System.Reflection;

namespace Aims.Evidence.Local;

/// <summary>
/// Overrides numeric options from environment variables, e.g. <c>AIMS__MAPPING__THRESHOLD=0.6</c> sets
/// <c>HybridMapperOptions.Threshold</c>. Unknown or unparsable values are reported, never silently ignored.
/// </summary>
public static class EnvironmentOptions
{
    public static T Apply<T>(T options, string section, Func<string, string?>? read = null)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(options);
        read ??= Environment.GetEnvironmentVariable;
        var copy = (T)typeof(T).GetMethod("<Clone>$")!.Invoke(options, null)!;
        foreach (var property in typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
        {
            var value = read($"AIMS__{section}__{property.Name}".ToUpperInvariant());
            if (string.IsNullOrWhiteSpace(value))
            {
                continue;
            }

            object parsed = property.PropertyType switch
            {
                var t when t == typeof(double) => double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture),
                var t when t == typeof(int) => int.Parse(value, NumberStyles.Integer, CultureInfo.InvariantCulture),
                var t when t == typeof(bool) => bool.Parse(value),
                _ => throw new InvalidOperationException($"AIMS__{section}__{property.Name} cannot be set from the environment."),
            };
            property.SetValue(copy, parsed);
        }

        return copy;
    }
}
