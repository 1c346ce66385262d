using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace OrleansLocks;

/// <summary>
/// A <see cref="RangeAttribute"/> whose message quotes the value it refused: <see cref="ValidationAttribute.ErrorMessage"/>
/// is a format with <c>{0}</c> for the option's name and <c>{1}</c> for its value. The options
/// validation source generator (<c>[OptionsValidator]</c>) runs it like any validation attribute.
/// </summary>
/// <remarks>
/// Internal, and visible to the Grains and Client assemblies, whose generated validators create it.
/// </remarks>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field, AllowMultiple = false)]
internal sealed class ValueRangeAttribute : RangeAttribute
{
    /// <summary>A range of whole numbers, both ends included.</summary>
    public ValueRangeAttribute(int minimum, int maximum)
        : base(minimum, maximum)
    {
    }

    /// <summary>A range of <paramref name="type"/> (e.g. <see cref="TimeSpan"/>) with ends written in the invariant culture.</summary>
    public ValueRangeAttribute(Type type, string minimum, string maximum)
        : base(type, minimum, maximum)
    {
        ParseLimitsInInvariantCulture = true;
        ConvertValueInInvariantCulture = true;
    }

    /// <inheritdoc/>
    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext)
    {
        ArgumentNullException.ThrowIfNull(validationContext);
        if (IsValid(value))
        {
            return ValidationResult.Success;
        }

        // No member names on the result: the message already starts with the option's name, and the
        // options result builder would otherwise prefix it a second time.
        var name = validationContext.MemberName ?? validationContext.DisplayName;
        return new ValidationResult(string.Format(CultureInfo.InvariantCulture, ErrorMessageString, name, value));
    }
}
