set terminal pngcairo size 640,440 font 'sans,9'
set output 'nbd-copy.png'
set title "whole-device copy of 256 MiB onto the NBD device, no writer\n(netem delay 5ms on lo; medians)"
set style fill solid 0.8 border -1
set boxwidth 0.6
set grid ytics
set yrange [0:72197.000000]
unset key
set ylabel 'ms'
plot 'nbd-copy.dat' using 0:2:xtic(1) with boxes lc rgb '#4472c4', '' using 0:2:(sprintf('%.0f ms, %.1f MiB/s',$2,$3)) with labels offset 0,0.7 font 'sans,8'
