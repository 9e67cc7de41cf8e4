set terminal pngcairo size 640,480 font 'sans,9'
set output 'incremental.png'
set title 'incremental copy: time / full copy time vs dirty fraction (set cpu)'
set logscale xy
set xlabel '% of regions dirty (random)'
set ylabel 'x full copy time'
set grid
set key top left
set xrange [0.05:100]
set yrange [0.001:2]
plot 'incremental.dat' using 2:3 with linespoints lw 2 pt 7 title 'dm-incmirror', x/100 with lines dt 2 title 'proportional (k% of the time)'
