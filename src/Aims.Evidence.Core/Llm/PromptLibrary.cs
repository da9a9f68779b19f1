using System.Globalization;
using Microsoft.SemanticKernel;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Aims.Evidence.Core.Llm;

/// <summary>A Semantic Kernel prompt template loaded from prompts/*.yaml, with the version it declares.</summary>
public sealed class PromptDefinition
{
    private readonly IPromptTemplate _template;

    public PromptDefinition(PromptTemplateConfig config, string version, string sourcePath)
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        Version = version;
        SourcePath = sourcePath;
        _template = new KernelPromptTemplateFactory().Create(config);
    }

    public PromptTemplateConfig Config { get; }

    public string Name => Config.Name ?? System.IO.Path.GetFileNameWithoutExtension(SourcePath);

    public string Version { get; }

    /// <summary>Recorded on mappings and in the cache key: "map_passages@1.0.0".</summary>
    public string PromptVersion => $"{Name}@{Version}";

    public string SourcePath { get; }

    /// <summary>The template's "default" execution settings (temperature, max_tokens, response_format, …).</summary>
    public PromptExecutionSettings? ExecutionSettings => Config.ExecutionSettings.TryGetValue(PromptExecutionSettings.DefaultServiceId, out var s) ? s : Config.DefaultExecutionSettings;

    /// <summary>Renders the template with Semantic Kernel's prompt template engine.</summary>
    public Task<string> RenderAsync(Kernel kernel, KernelArguments arguments, CancellationToken cancellationToken = default) =>
        _template.RenderAsync(kernel, arguments, cancellationToken);
}

/// <summary>Loads prompt templates (YAML in Semantic Kernel's PromptTemplateConfig shape) from a folder at run time.</summary>
public static class PromptLibrary
{
    public const string MapPassages = "map-passages";
    public const string ClassifyDocument = "classify-document";
    public const string ListAiSystems = "list-ai-systems";

    /// <summary>The "prompts" folder next to the binaries.</summary>
    public static string DefaultDirectory => Path.Combine(AppContext.BaseDirectory, "prompts");

    public static PromptDefinition Load(string name, string? directory = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var path = Path.Combine(directory ?? DefaultDirectory, name + ".yaml");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The prompt template {path} is missing: the prompts folder must sit next to the binaries.", path);
        }

        return Parse(File.ReadAllText(path), path);
    }

    public static PromptDefinition Parse(string yaml, string sourcePath = "(inline)")
    {
        var deserializer = new DeserializerBuilder()
            .WithNamingConvention(UnderscoredNamingConvention.Instance)
            .IgnoreUnmatchedProperties()
            .Build();
        var file = deserializer.Deserialize<PromptYaml>(yaml) ?? throw new InvalidDataException($"{sourcePath}: empty prompt template");
        if (string.IsNullOrWhiteSpace(file.Template))
        {
            throw new InvalidDataException($"{sourcePath}: the prompt template has no 'template'");
        }

        if (string.IsNullOrWhiteSpace(file.Version))
        {
            throw new InvalidDataException($"{sourcePath}: the prompt template has no 'version'");
        }

        var config = new PromptTemplateConfig(file.Template)
        {
            Name = file.Name,
            Description = file.Description,
            TemplateFormat = string.IsNullOrWhiteSpace(file.TemplateFormat) ? PromptTemplateConfig.SemanticKernelTemplateFormat : file.TemplateFormat,
            AllowDangerouslySetContent = file.AllowDangerouslySetContent,
        };
        foreach (var v in file.InputVariables ?? [])
        {
            config.InputVariables.Add(new InputVariable
            {
                Name = v.Name ?? throw new InvalidDataException($"{sourcePath}: an input variable has no name"),
                Description = v.Description,
                IsRequired = v.IsRequired,
                AllowDangerouslySetContent = v.AllowDangerouslySetContent,
            });
        }

        foreach (var (serviceId, values) in file.ExecutionSettings ?? [])
        {
            var settings = new PromptExecutionSettings
            {
                ServiceId = serviceId == PromptExecutionSettings.DefaultServiceId ? null : serviceId,
                ExtensionData = values.ToDictionary(kv => kv.Key, kv => Scalar(kv.Value), StringComparer.Ordinal),
            };
            config.ExecutionSettings[serviceId] = settings;
        }

        return new PromptDefinition(config, file.Version.Trim(), sourcePath);
    }

    /// <summary>YAML scalars arrive as strings: numbers and booleans become numbers and booleans again.</summary>
    private static object Scalar(object? value) => value switch
    {
        string s when long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) => l,
        string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
        string s when bool.TryParse(s, out var b) => b,
        null => string.Empty,
        _ => value,
    };

    private sealed class PromptYaml
    {
        public string? Name { get; set; }

        public string? Version { get; set; }

        public string? Description { get; set; }

        public string? TemplateFormat { get; set; }

        public string? Template { get; set; }

        public bool AllowDangerouslySetContent { get; set; }

        public List<InputVariableYaml>? InputVariables { get; set; }

        public Dictionary<string, Dictionary<string, object?>>? ExecutionSettings { get; set; }
    }

    private sealed class InputVariableYaml
    {
        public string? Name { get; set; }

        public string? Description { get; set; }

        public bool IsRequired { get; set; } = true;

        public bool AllowDangerouslySetContent { get; set; }
    }
}
