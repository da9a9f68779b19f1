using Aims.Evidence.Functions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;

namespace Aims.Evidence.Azure.Tests;

/// <summary>The Functions app reads each <c>Aims:*</c> section once, through the composition root.</summary>
public sealed class FunctionsSettingsTests
{
    [Fact]
    public void Every_aims_section_is_bound_once_when_the_app_registers()
    {
        var configuration = new CountingConfiguration(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true",
            ["Aims:Mapping:Mapper"] = "lexical",
        }).Build());

        new ServiceCollection().AddAimsFunctions(configuration);

        var aims = configuration.Sections.Where(s => s.StartsWith("Aims:", StringComparison.Ordinal)).ToArray();
        Assert.Equal(
            ["Aims:Api", "Aims:Azure", "Aims:Extraction", "Aims:Llm", "Aims:Mapping", "Aims:Notifications", "Aims:Tasks"],
            aims.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_bad_value_stops_the_app_naming_its_setting()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true",
            ["Aims:Azure:MaxIngestAttempts"] = "three",
        }).Build();

        var error = Assert.Throws<ArgumentException>(() => new ServiceCollection().AddAimsFunctions(configuration));
        Assert.Contains("Aims:Azure", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Records every section asked for at the root.</summary>
    private sealed class CountingConfiguration(IConfiguration inner) : IConfiguration
    {
        public List<string> Sections { get; } = [];

        public string? this[string key]
        {
            get => inner[key];
            set => inner[key] = value;
        }

        public IConfigurationSection GetSection(string key)
        {
            Sections.Add(key);
            return inner.GetSection(key);
        }

        public IEnumerable<IConfigurationSection> GetChildren() => inner.GetChildren();

        public IChangeToken GetReloadToken() => inner.GetReloadToken();
    }
}
