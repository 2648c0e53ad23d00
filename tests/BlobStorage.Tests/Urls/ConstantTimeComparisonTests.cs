using System.Reflection;
using System.Reflection.Emit;
using System.Security.Cryptography;
using BlobStorage.Urls;

namespace BlobStorage.Tests.Urls;

/// <summary>
/// Signed-URL verification must compare secrets in constant time. Timing cannot be asserted reliably on a
/// shared machine, so this reads the compiled verification method instead: it decodes its IL and checks which
/// methods it calls. The signature and the resource hash are compared by <see cref="CryptographicOperations.FixedTimeEquals"/>,
/// and no early-exit comparison of bytes or strings (SequenceEqual, string equality, Array/Span equality) is called.
/// </summary>
[Parallelizable(ParallelScope.All)]
public class ConstantTimeComparisonTests
{
    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    [Test]
    public void Verify_compares_the_signature_and_the_resource_hash_with_FixedTimeEquals_only()
    {
        var verify = typeof(BlobUrlProvider).GetMethod(nameof(BlobUrlProvider.Verify), BindingFlags.Public | BindingFlags.Instance)!;
        var called = CalledMethods(verify);

        called.Count(m => m.DeclaringType == typeof(CryptographicOperations) && m.Name == nameof(CryptographicOperations.FixedTimeEquals))
            .Should().Be(2, "the resource hash and the HMAC are both compared in constant time");

        var secretComparisons = called.Where(m => m.DeclaringType != typeof(CryptographicOperations) && m.Name is "SequenceEqual" or "SequenceCompareTo" or "Equals" or "CompareTo" or "StartsWith" or "EndsWith")
            .Select(m => $"{m.DeclaringType}.{m.Name}")
            .ToList();
        secretComparisons.Should().BeEmpty("an early-exit comparison would leak how much of a signature matched");

        // The only string (in)equality in Verify is on the public version field, before any secret is read.
        called.Where(m => m.DeclaringType == typeof(string) && m.Name is "op_Equality" or "op_Inequality").Should().HaveCountLessThanOrEqualTo(1);
    }

    [Test]
    public void The_il_reader_finds_calls_it_is_shown()
    {
        // Guards the test above against a reader that finds nothing: this method calls FixedTimeEquals once.
        var called = CalledMethods(typeof(ConstantTimeComparisonTests).GetMethod(nameof(CallsFixedTimeEquals), BindingFlags.NonPublic | BindingFlags.Static)!);
        called.Should().ContainSingle(m => m.Name == nameof(CryptographicOperations.FixedTimeEquals));
    }

    private static bool CallsFixedTimeEquals(byte[] a, byte[] b) => CryptographicOperations.FixedTimeEquals(a, b);

    /// <summary>Every method a method's body calls (call, callvirt, newobj), in order, decoded from its IL.</summary>
    private static List<MethodBase> CalledMethods(MethodInfo method)
    {
        var il = method.GetMethodBody()!.GetILAsByteArray()!;
        var module = method.Module;
        var generics = method.DeclaringType!.GetGenericArguments();
        var calls = new List<MethodBase>();
        var i = 0;
        while (i < il.Length)
        {
            short value = il[i] == 0xFE ? (short)(0xFE00 | il[i + 1]) : il[i];
            i += il[i] == 0xFE ? 2 : 1;
            var opCode = OpCodesByValue[value];
            var operandSize = opCode.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + (4 * BitConverter.ToInt32(il, i)),
                _ => 4,
            };
            if (opCode.OperandType == OperandType.InlineMethod)
            {
                calls.Add(module.ResolveMethod(BitConverter.ToInt32(il, i), generics, null)!);
            }

            i += operandSize;
        }

        return calls;
    }
}
