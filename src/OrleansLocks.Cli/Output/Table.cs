namespace OrleansLocks.Cli;

/// <summary>A table for people: a header and rows, each column as wide as its widest cell.</summary>
internal sealed class Table(params string[] headers)
{
    private const string Gap = "  ";

    private readonly List<string[]> _rows = [];

    public int Count => _rows.Count;

    public Table Add(params string[] cells)
    {
        if (cells.Length != headers.Length)
        {
            throw new ArgumentException($"A row has {headers.Length} cells; this one has {cells.Length}.", nameof(cells));
        }

        _rows.Add(cells);
        return this;
    }

    /// <summary>Writes the header and the rows, each line prefixed with <paramref name="indent"/>; the last column is not padded.</summary>
    public void WriteTo(TextWriter output, string indent = "")
    {
        var widths = headers.Select((h, i) => Math.Max(h.Length, _rows.Count == 0 ? 0 : _rows.Max(r => r[i].Length))).ToArray();
        WriteLine(output, indent, headers, widths);
        foreach (var row in _rows)
        {
            WriteLine(output, indent, row, widths);
        }
    }

    private static void WriteLine(TextWriter output, string indent, string[] cells, int[] widths)
    {
        var padded = cells.Select((cell, i) => i == cells.Length - 1 ? cell : cell.PadRight(widths[i]));
        output.WriteLine(indent + string.Join(Gap, padded).TrimEnd());
    }
}
