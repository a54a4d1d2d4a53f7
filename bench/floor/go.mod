module lambkin.dev/benchfloor

go 1.19
