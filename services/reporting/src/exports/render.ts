import { formatAcademicYear } from "@otmetka/service-kit";
import ExcelJS from "exceljs";
import { csvCell } from "./csv-cell.js";
import { type PerformanceReport, reportCells, reportColumns } from "./performance-report.js";

const MODE_LABEL = {
  RECORDED: "по данным, известным на конец дня",
  EFFECTIVE: "с учётом последующих исправлений",
  CURRENT: "текущее состояние",
} as const;

/** The report as one worksheet: a heading block (what, as of when, under which definitions), then the table. */
function workbookOf(r: PerformanceReport): ExcelJS.Workbook {
  const q = r.request;
  const wb = new ExcelJS.Workbook();
  wb.creator = "otmetka reporting";
  const ws = wb.addWorksheet("Успеваемость и качество");
  ws.addRow(["Отчёт об успеваемости и качестве знаний"]).font = { bold: true };
  // The scope by name for the reader and by id for machines ("" while no event named it).
  const school = q.level === "SCHOOL";
  ws.addRow([school ? "Школа" : "Муниципалитет", r.scopeName]);
  ws.addRow([school ? "Идентификатор школы" : "Идентификатор муниципалитета", q.scopeId]);
  ws.addRow(["Учебный год", formatAcademicYear(q.startYear)]);
  ws.addRow(["Период", r.periodName]);
  ws.addRow(["По состоянию на", q.asOf]);
  ws.addRow(["Режим", MODE_LABEL[q.mode ?? "CURRENT"]]);
  ws.addRow(["Версия определений", r.definitionVersion]);
  ws.addRow(["Определения", r.definitions.join(", ")]);
  ws.addRow([]);
  ws.addRow(reportColumns(q.level)).font = { bold: true };
  for (const row of r.rows) ws.addRow(reportCells(row, ""));
  ws.addRow(reportCells(r.total, "Итого")).font = { bold: true };
  ws.getColumn(1).width = 40;
  ws.getColumn(2).width = 38;
  return wb;
}

export async function reportXlsx(r: PerformanceReport): Promise<Buffer> {
  return Buffer.from(await workbookOf(r).xlsx.writeBuffer());
}

/**
 * UTF-8 with a byte-order mark, so spreadsheet programs read the Russian headings right;
 * text cells (the scope id is the caller's) cannot start a formula (csv-cell.ts). The XLSX
 * needs no such care: exceljs writes a string as a string cell, never as a formula.
 */
export async function reportCsv(r: PerformanceReport): Promise<Buffer> {
  const body = Buffer.from(await workbookOf(r).csv.writeBuffer({ map: csvCell }));
  return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body]);
}
