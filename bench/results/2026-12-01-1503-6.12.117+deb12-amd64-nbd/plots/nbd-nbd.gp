set terminal pngcairo size 1030,520 font 'sans,9'
set output 'nbd-nbd-iops.png'
set multiplot layout 1,3 title 'IOPS (median), NBD destination, set nbd (netem delay 5ms on lo)'
set style fill solid 0.8 border -1
set boxwidth 0.7
set xtics rotate by -40 nomirror
set grid ytics
set yrange [0:*]
unset key
set title 'w4k-qd1'
plot 'nbd-nbd.dat' index 0 using 0:3:xtic(1) with boxes lc rgb '#4472c4', '' index 0 using 0:3:(sprintf('%.0f',$3)) with labels offset 0,0.7 font 'sans,7'
set title 'w4k-qd8'
plot 'nbd-nbd.dat' index 1 using 0:3:xtic(1) with boxes lc rgb '#4472c4', '' index 1 using 0:3:(sprintf('%.0f',$3)) with labels offset 0,0.7 font 'sans,7'
set title 'w64k-qd4'
plot 'nbd-nbd.dat' index 2 using 0:3:xtic(1) with boxes lc rgb '#4472c4', '' index 2 using 0:3:(sprintf('%.0f',$3)) with labels offset 0,0.7 font 'sans,7'
unset multiplot
set output 'nbd-nbd-latency.png'
set multiplot layout 1,3 title 'write latency, submission to completion: p50 / p99 / p99.9 (us, log scale), NBD destination, set nbd (netem delay 5ms on lo)'
set logscale y
set yrange [*:*]
set key top left font 'sans,8'
set style data histograms
set style histogram clustered gap 1
set title 'w4k-qd1'
plot 'nbd-nbd.dat' index 0 using 5:xtic(1) title 'p50' lc rgb '#70ad47', '' index 0 using 6 title 'p99' lc rgb '#ed7d31', '' index 0 using 7 title 'p99.9' lc rgb '#c00000'
unset key
set title 'w4k-qd8'
plot 'nbd-nbd.dat' index 1 using 5:xtic(1) title 'p50' lc rgb '#70ad47', '' index 1 using 6 title 'p99' lc rgb '#ed7d31', '' index 1 using 7 title 'p99.9' lc rgb '#c00000'
unset key
set title 'w64k-qd4'
plot 'nbd-nbd.dat' index 2 using 5:xtic(1) title 'p50' lc rgb '#70ad47', '' index 2 using 6 title 'p99' lc rgb '#ed7d31', '' index 2 using 7 title 'p99.9' lc rgb '#c00000'
unset key
unset multiplot
