module example.com/devapp

go 1.19
