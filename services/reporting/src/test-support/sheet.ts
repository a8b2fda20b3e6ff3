import { Readable } from "node:stream";
import ExcelJS from "exceljs";

/**
 * A worksheet's rows as arrays of cell values, the number of the first row whose first cell is
 * `label`, and that row.
 */
export const sheet = (ws: ExcelJS.Worksheet | undefined) => {
  if (!ws) throw new Error("no worksheet");
  const cells = (r: number) => (ws.getRow(r).values as unknown[]).slice(1);
  const rowOf = (label: string) => {
    for (let r = 1; r <= ws.rowCount; r++) if (cells(r)[0] === label) return r;
    throw new Error(`no row ${label}`);
  };
  return { cells, rowOf, find: (label: string) => cells(rowOf(label)) };
};

/** An exported file read back with exceljs, as a spreadsheet program would (the CSV past its BOM). */
export const readXlsx = async (content: Uint8Array) => {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(Buffer.from(content) as unknown as ExcelJS.Buffer);
  return sheet(wb.worksheets[0]);
};
export const readCsv = async (content: Uint8Array) =>
  sheet(
    await new ExcelJS.Workbook().csv.read(Readable.from([Buffer.from(content).subarray(3)]), {
      map: (v: unknown) => v,
    }),
  );
