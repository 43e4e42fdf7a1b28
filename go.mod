module github.com/drill-sre/drill

go 1.26
