module threadbench/bench/go

go 1.19
