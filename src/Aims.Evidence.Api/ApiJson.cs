using System.Text.Json;
using System.Text.Json.Serialization;

namespace Aims.Evidence.Api;

/// <summary>
/// The API's JSON, defined once: web defaults (camelCase names), enums as camelCase strings, nulls written unless a
/// property says otherwise. Every host's HTTP bodies, the exports and <c>aims ... --json</c> use it.
/// </summary>
public static class ApiJson
{
    /// <summary>The settings for output printed or saved as a file (the CLI's <c>--json</c>, SoA, OSCAL, the evidence pack's JSON).</summary>
    public static JsonSerializerOptions Indented { get; } = Create(indented: true);

    /// <summary>The same, one value per line (JSON Lines exports).</summary>
    public static JsonSerializerOptions Compact { get; } = Create(indented: false);

    /// <summary>Gives <paramref name="options"/> (an HTTP host's, already on web defaults) the API's settings.</summary>
    public static void Configure(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.Converters.OfType<JsonStringEnumConverter>().Any())
        {
            options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        }

        options.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
    }

    private static JsonSerializerOptions Create(bool indented)
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = indented };
        Configure(options);
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
