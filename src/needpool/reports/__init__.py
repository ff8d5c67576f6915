"""Reports: dashboards and periodic reports (PRODUCT.md §3 "Reports").

The app reads the pool, customers, delivery, loop and evaluation through their permission-scoped selectors and
writes only its own records (monthly reviews, their schedule). Every report is built as a ``document.Report`` —
sections of figures, tables, charts and text — and one set of renderers turns any document into the page
(ECharts), a PDF (WeasyPrint) or a workbook (openpyxl), so the numbers a page shows are the numbers exported.
"""
